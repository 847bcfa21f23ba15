"""Enqueueing for work that a beat sweep also finds, shared by replies, sends and
webhook deliveries."""

import logging
from datetime import datetime

from celery import Task
from django.utils import timezone

logger = logging.getLogger(__name__)

# Countdowns stay far below the broker's visibility timeout (Redis would redeliver a
# task that waits longer); anything due later is left to the sweep.
MAX_COUNTDOWN = 300.0


def enqueue_at(task: Task, args: list, at: datetime) -> bool:
    """Enqueue `task` to run at `at`. False when it was not enqueued: due beyond
    MAX_COUNTDOWN, or the broker is down (logged) — the caller's sweep runs it then."""
    countdown = max(0.0, (at - timezone.now()).total_seconds())
    if countdown > MAX_COUNTDOWN:
        return False
    # No countdown at all when due: an ETA task waits in the worker's timer instead of
    # going straight to a free worker.
    options = {"countdown": countdown} if countdown >= 0.5 else {}
    try:
        task.apply_async(args=args, **options)
    except Exception:
        logger.warning("Could not enqueue %s%s; its sweep will run it", task.name, args)
        return False
    return True
