"""Celery tasks: leaves. Each takes ids, calls one service and is safe to run twice;
the decisions live in the services. Nothing imports this module: services enqueue by
task name (core.jobs) and the worker finds the tasks by autodiscovery."""

from celery import shared_task

from conversations import delivery, replies, scheduling
from workspaces.idempotency import idempotency_purge

SWEEP_BATCH = 50


@shared_task(name="conversations.generate_reply", bind=True, max_retries=None)
def generate_reply(self, conversation_id: str) -> None:
    retry_in = replies.reply_run(conversation_id=conversation_id, attempt=self.request.retries)
    if retry_in is not None:
        raise self.retry(countdown=retry_in)


@shared_task(name="conversations.sweep_due_replies")
def sweep_due_replies() -> int:
    """Re-enqueues owed replies whose task never ran (broker down, task lost)."""
    ids = replies.replies_overdue()
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


@shared_task(name="conversations.dispatch_due_messages")
def dispatch_due_messages() -> int:
    ids = scheduling.dispatch_due()
    for start in range(0, len(ids), SWEEP_BATCH):
        send_messages.apply_async(args=[ids[start : start + SWEEP_BATCH]])
    return len(ids)


@shared_task(name="conversations.recover_stale_sending")
def recover_stale_sending() -> int:
    return delivery.recover_stale_sending()


@shared_task(name="conversations.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency_purge()
