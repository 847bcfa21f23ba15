"""Enqueueing work for the Celery workers, by task name.

Services never import a `tasks` module (tasks are leaves that call services); they name
the task here. The work is also found by a beat sweep (owed replies, due sends, pending
webhook deliveries), so an enqueue that fails only delays it: callers get False and
leave the rest to the sweep."""

import logging
from datetime import datetime

from celery import current_app
from django.utils import timezone

logger = logging.getLogger(__name__)

# Countdowns stay far below the broker's visibility timeout (Redis would redeliver a
# task that waits longer); anything due later is left to the sweep.
MAX_COUNTDOWN = 300.0


def _publish(name: str, args: list, options: dict) -> None:
    app = current_app
    if app.conf.task_always_eager:
        # Eager mode (tests, a shell) runs the task here, which needs the task itself:
        # load every app's tasks module the way the worker does.
        app.loader.import_default_modules()
        app.tasks[name].apply_async(args=args, **options)
        return
    # Routing (task_routes) applies by name; the web process never imports the task.
    app.send_task(name, args=args, **options)


def enqueue(name: str, args: list, *, at: datetime | None = None) -> bool:
    """Enqueue task `name` to run at `at` (now when None). False when it was not
    enqueued: due beyond MAX_COUNTDOWN, or the broker is down (logged) — the task's
    sweep runs it then."""
    options: dict = {}
    if at is not None:
        countdown = max(0.0, (at - timezone.now()).total_seconds())
        if countdown > MAX_COUNTDOWN:
            return False
        # No countdown at all when due: an ETA task waits in the worker's timer instead
        # of going straight to a free worker.
        if countdown >= 0.5:
            options["countdown"] = countdown
    try:
        _publish(name, args, options)
    except Exception:
        logger.warning("Could not enqueue %s%s; its sweep will run it", name, args)
        return False
    return True
