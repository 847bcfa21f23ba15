"""Celery tasks: thin, take ids, re-read state, safe to run twice."""

import logging
import random
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from agents.llm import TransientLLMError
from config.tasking import enqueue_at
from conversations import delivery
from conversations.models import Conversation
from conversations.replies import ReplyFailed, reply_generate, reply_give_up
from conversations.services import reply_lock_acquire
from workspaces.idempotency import idempotency_purge

logger = logging.getLogger(__name__)


def enqueue_reply(conversation_id: str, due_at: datetime) -> None:
    """Enqueue generation; when it cannot be, sweep_due_replies runs it."""
    enqueue_at(generate_reply, [conversation_id], due_at)


def backoff(retries: int, retry_after: float | None) -> float:
    """Exponential with full jitter, at least what the provider asked for."""
    base = min(300.0, 2.0 * (2**retries))
    return max(retry_after or 0.0, random.uniform(base / 2, base))  # noqa: S311


@shared_task(name="conversations.generate_reply", bind=True, max_retries=None)
def generate_reply(self, conversation_id: str) -> None:
    conversation = (
        Conversation.objects.filter(pk=conversation_id)
        .only("reply_due_at", "ai_paused", "ai_paused_until")
        .first()
    )
    if conversation is None or conversation.reply_due_at is None:
        return  # deleted, or already answered
    if conversation.ai_paused_now(timezone.now()):
        Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=None)
        return  # a person has taken over
    if conversation.reply_due_at > timezone.now() + timedelta(seconds=1):
        return  # not due yet (the window moved); a later task or the sweep runs it
    started_at = reply_lock_acquire(conversation_id=conversation.pk)
    if started_at is None:
        # Someone is generating now; their reply settles what was owed before they began.
        raise self.retry(countdown=5)
    try:
        reply_generate(conversation_id=conversation.pk, started_at=started_at, sdk_max_retries=0)
    except ReplyFailed:
        return  # recorded as reply.failed
    except TransientLLMError as exc:
        if self.request.retries >= settings.LLM_TASK_MAX_RETRIES:
            started_at = reply_lock_acquire(conversation_id=conversation.pk)
            if started_at is not None:
                reply_give_up(
                    conversation_id=conversation.pk, started_at=started_at, message=exc.message
                )
            return
        raise self.retry(countdown=backoff(self.request.retries, exc.retry_after)) from exc
    except Exception as exc:
        # Anything else (a database error, a bug) fails this owed reply once, with an
        # event, instead of being re-run by the sweep every 10 s at a model call each.
        logger.exception("Reply generation crashed in conversation %s", conversation.pk)
        started_at = reply_lock_acquire(conversation_id=conversation.pk)
        if started_at is not None:
            reply_give_up(
                conversation_id=conversation.pk,
                started_at=started_at,
                message=f"Internal error: {type(exc).__name__}",
            )


@shared_task(name="conversations.sweep_due_replies")
def sweep_due_replies() -> int:
    """Re-enqueues owed replies whose task never ran (broker down, task lost)."""
    now = timezone.now()
    grace = now - timedelta(seconds=settings.REPLY_SWEEP_GRACE)
    stale = now - timedelta(seconds=settings.REPLY_LOCK_TIMEOUT)
    due = Conversation.objects.filter(
        Q(reply_started_at__isnull=True) | Q(reply_started_at__lte=stale),
        Q(ai_paused=False) | Q(ai_paused_until__lte=now),
        reply_due_at__lte=grace,
    ).values_list("pk", flat=True)[:500]
    ids = [str(pk) for pk in due]
    for conversation_id in ids:
        generate_reply.apply_async(args=[conversation_id])
    return len(ids)


@shared_task(name="conversations.send_message", acks_late=True)
def send_message(message_id: str) -> str:
    return delivery.deliver(message_id)


@shared_task(name="conversations.send_messages", acks_late=True)
def send_messages(message_ids: list[str]) -> int:
    """A batch from the sweep (see delivery.deliver_batch); safe to run twice."""
    outcomes = delivery.deliver_batch(message_ids)
    return sum(outcome == "sent" for outcome in outcomes.values())


SWEEP_BATCH = 50


@shared_task(name="conversations.dispatch_due_messages")
def dispatch_due_messages() -> int:
    ids = delivery.dispatch_due()
    for start in range(0, len(ids), SWEEP_BATCH):
        send_messages.apply_async(args=[ids[start : start + SWEEP_BATCH]])
    return len(ids)


@shared_task(name="conversations.recover_stale_sending")
def recover_stale_sending() -> int:
    return delivery.recover_stale_sending()


@shared_task(name="conversations.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency_purge()
