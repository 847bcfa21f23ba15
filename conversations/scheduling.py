"""Scheduling outbound messages: when a message may leave (the flow's delay and working
hours), drafts approved or canceled, and the sweep that finds due messages no task is
waiting for. Sending them is conversations.delivery.

A message is committed with its `send_at`; a task is enqueued on commit (with a
countdown when due soon) and a beat sweep enqueues whatever is due and not enqueued,
so a lost task or a long delay never loses a send.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conversations import payloads
from conversations.events import event_record
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from core import jobs
from core.errors import Conflict
from flows.models import MessageFlow
from flows.working_hours import next_opening

# A due message enqueued this recently is left alone by the sweep; a task lost after
# the broker took it delays its send by at most this much.
DISPATCH_LEASE = timedelta(seconds=15)


def send_time(flow: MessageFlow, now: datetime) -> datetime:
    """After the flow's delay, at the first open minute of its working hours."""
    return next_opening(now + timedelta(seconds=flow.reply_delay_seconds), flow.working_hours())


def message_event_data(message: Message, conversation: Conversation, **extra: object) -> dict:
    data = payloads.message_event(message, conversation)
    data["message"].update(sendAt=payloads.iso(message.send_at), **extra)
    if message.status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
        # Why, in the provider's words: a carrier's refusal (e.g. Twilio 21211) is the
        # first thing a client needs to see.
        data["message"].update(errorCode=message.error_code, error=message.error_message)
    return data


def message_event(
    message: Message, conversation: Conversation, type_: str, **extra: object
) -> None:
    data = message_event_data(message, conversation, **extra)
    event_record(
        workspace_id=conversation.workspace_id,
        type=type_,
        conversation_id=conversation.pk,
        data=data,
    )


def enqueue_send(message_id: str, send_at: datetime) -> None:
    """Enqueue the send task; when it cannot be, dispatch_due sends it."""
    if not jobs.enqueue("conversations.send_message", [message_id], at=send_at):
        # No lease without a task: the next sweep (every 2 s) takes the message.
        Message.objects.filter(pk=message_id, enqueued_at=send_at).update(enqueued_at=None)


@transaction.atomic
def message_schedule(*, message: Message, send_at: datetime) -> Message:
    """Call with a draft or a message being (re)scheduled; commits with its send time."""
    soon = (send_at - timezone.now()).total_seconds() <= jobs.MAX_COUNTDOWN
    message.status = DeliveryStatus.SCHEDULED
    message.send_at = send_at
    message.enqueued_at = send_at if soon else None
    message.save(update_fields=["status", "send_at", "enqueued_at", "updated_at"])
    message_event(message, message.conversation, "message.scheduled")
    message_id = str(message.pk)
    transaction.on_commit(lambda: enqueue_send(message_id, send_at))
    return message


def outbound_status(conversation: Conversation, role: str) -> str:
    """The status a message the service writes (not one received) is created with: an
    agent's or operator's message is a draft where a flow sends it to a customer on a
    channel (message_route_outbound then schedules it when approved); anything else, and
    every message of an API-only conversation (no flow or no contact), is none. Created
    so, its message.created event says what the row says."""
    if role != Role.AGENT or conversation.flow_id is None or conversation.contact_id is None:
        return DeliveryStatus.NONE
    return DeliveryStatus.DRAFT


def message_route_outbound(*, message: Message, approved: bool) -> Message:
    """Call with a message created with `outbound_status`: a draft is scheduled inside
    the flow's hours when approved (autopilot, or a person wrote it), otherwise kept for
    an operator; a message not for delivery is left as it is."""
    if message.status != DeliveryStatus.DRAFT or not approved:
        return message
    hours = message.conversation.flow.working_hours()
    return message_schedule(message=message, send_at=next_opening(timezone.now(), hours))


def draft_lock(*, message: Message, doing: str) -> Message:
    """The draft, re-read under its row lock (call inside a transaction); a 409 when it
    is no longer a draft (approved, discarded or edited meanwhile)."""
    locked = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation__flow")
        .get(pk=message.pk)
    )
    if locked.status != DeliveryStatus.DRAFT:
        raise Conflict(
            f"Only a draft can be {doing}; this message is {locked.status}.",
            code="message_not_draft",
        )
    return locked


def message_approve(*, message: Message) -> Message:
    """A draft approved by an operator: scheduled by its flow's delay and hours."""
    with transaction.atomic():
        locked = draft_lock(message=message, doing="sent")
        flow = locked.conversation.flow
        now = timezone.now()
        send_at = send_time(flow, now) if flow else now
        return message_schedule(message=locked, send_at=send_at)


def message_cancel(*, message: Message, reason: str = "") -> Message:
    with transaction.atomic():
        canceled = Message.objects.filter(
            pk=message.pk, status__in=[DeliveryStatus.DRAFT, DeliveryStatus.SCHEDULED]
        ).update(status=DeliveryStatus.CANCELED, error_message=reason, updated_at=timezone.now())
        message.refresh_from_db()
        if not canceled:
            raise Conflict(
                f"The message cannot be canceled: it is {message.status}.",
                code="message_already_left",
            )
        message_event(message, message.conversation, "message.canceled", reason=reason)
    return message


def messages_cancel_pending(*, contact: Contact, reason: str) -> int:
    """Cancels every draft and scheduled message to a contact (e.g. after STOP)."""
    pending = Message.objects.filter(
        conversation__contact=contact,
        status__in=[DeliveryStatus.DRAFT, DeliveryStatus.SCHEDULED],
    ).select_related("conversation")
    count = 0
    for message in pending:
        try:
            message_cancel(message=message, reason=reason)
            count += 1
        except Conflict:
            pass  # left meanwhile
    return count


def dispatch_due(*, limit: int = 1000) -> list[str]:
    """The sweep: due messages no task is known to be waiting for, claimed with
    SKIP LOCKED so concurrent sweeps split the work instead of doubling it."""
    now = timezone.now()
    with transaction.atomic():
        due = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.SCHEDULED, send_at__lte=now)
            .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - DISPATCH_LEASE))
            .order_by("send_at")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(due)
        if ids:
            Message.objects.filter(pk__in=ids).update(enqueued_at=now)
    return [str(pk) for pk in ids]
