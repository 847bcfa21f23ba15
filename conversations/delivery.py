"""Outbound delivery: when a message may leave, the claim that makes it leave once, the
checks just before it leaves, the provider call and what its answer means.

Life cycle: draft → scheduled → sending → queued (SMS, Twilio has it) / sent (email)
→ sent → delivered, or failed / undelivered; draft and scheduled may be canceled.
A message is committed with its `send_at`; a task is enqueued on commit (with a
countdown when due soon) and a beat sweep enqueues whatever is due and not enqueued,
so a lost task or a long delay never loses a send.
"""

import logging
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from channels import email as email_channel
from channels import sms as sms_channel
from channels.services import sender_for_flow
from config.errors import Conflict
from config.tasking import MAX_COUNTDOWN, enqueue_at
from conversations import payloads
from conversations.events import event_record, events_record
from conversations.models import Contact, Conversation, DeliveryStatus, Message
from flows.models import Channel, MessageFlow
from flows.working_hours import is_open, next_closing, next_opening

logger = logging.getLogger(__name__)

# A due message enqueued this recently is left alone by the sweep; a task lost after
# the broker took it delays its send by at most this much.
DISPATCH_LEASE = timedelta(seconds=15)
# A message "sending" this long was left by a dead worker.
SENDING_TIMEOUT = timedelta(minutes=5)
# Twilio takes 1 to 36000 seconds; its own default is 36000.
MAX_VALIDITY = 36_000
MIN_VALIDITY = 60

# Forward-only status moves for provider callbacks.
RANK = {
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
}
LEFT = (
    DeliveryStatus.SENDING,
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNDELIVERED,
)


def send_time(flow: MessageFlow, now: datetime) -> datetime:
    """After the flow's delay, at the first open minute of its working hours."""
    return next_opening(now + timedelta(seconds=flow.reply_delay_seconds), flow.working_hours())


def _event_data(message: Message, conversation: Conversation, **extra: object) -> dict:
    data = payloads.message_event(message, conversation)
    data["message"].update(status=message.status, send_at=payloads.iso(message.send_at), **extra)
    return data


def _event(message: Message, conversation: Conversation, type_: str, **extra: object) -> None:
    data = _event_data(message, conversation, **extra)
    event_record(
        workspace_id=conversation.workspace_id,
        type=type_,
        conversation_id=conversation.pk,
        data=data,
    )


def enqueue_send(message_id: str, send_at: datetime) -> None:
    """Enqueue the send task; when it cannot be, dispatch_due sends it."""
    from conversations import tasks

    if not enqueue_at(tasks.send_message, [message_id], send_at):
        # No lease without a task: the next sweep (every 2 s) takes the message.
        Message.objects.filter(pk=message_id, enqueued_at=send_at).update(enqueued_at=None)


@transaction.atomic
def message_schedule(*, message: Message, send_at: datetime) -> Message:
    """Call with a draft or a message being (re)scheduled; commits with its send time."""
    soon = (send_at - timezone.now()).total_seconds() <= MAX_COUNTDOWN
    message.status = DeliveryStatus.SCHEDULED
    message.send_at = send_at
    message.enqueued_at = send_at if soon else None
    message.save(update_fields=["status", "send_at", "enqueued_at", "updated_at"])
    _event(message, message.conversation, "message.scheduled")
    message_id = str(message.pk)
    transaction.on_commit(lambda: enqueue_send(message_id, send_at))
    return message


def message_route_outbound(*, message: Message, approved: bool) -> Message:
    """An agent's or operator's message in a conversation with a customer on a channel:
    scheduled inside the flow's hours when approved (autopilot, or a person wrote it),
    otherwise kept as a draft for an operator. Messages of API-only conversations
    (no flow or no contact) are not for delivery."""
    conversation = message.conversation
    if conversation.flow_id is None or conversation.contact_id is None:
        return message
    Message.objects.filter(pk=message.pk).update(status=DeliveryStatus.DRAFT)
    message.status = DeliveryStatus.DRAFT
    if not approved:
        return message
    hours = conversation.flow.working_hours()
    return message_schedule(message=message, send_at=next_opening(timezone.now(), hours))


def message_approve(*, message: Message) -> Message:
    """A draft approved by an operator: scheduled by its flow's delay and hours."""
    with transaction.atomic():
        locked = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__flow")
            .get(pk=message.pk)
        )
        if locked.status != DeliveryStatus.DRAFT:
            raise Conflict(
                f"Only a draft can be sent; this message is {locked.status}.",
                code="message_not_draft",
            )
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
        _event(message, message.conversation, "message.canceled", reason=reason)
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


def recover_stale_sending() -> int:
    """Messages left `sending` by a worker that died: re-checked like an unknown outcome."""
    stale = Message.objects.filter(
        status=DeliveryStatus.SENDING, sending_started_at__lte=timezone.now() - SENDING_TIMEOUT
    ).select_related("conversation__flow", "conversation__contact")[:100]
    count = 0
    for message in stale:
        _unknown_outcome(message, "The worker stopped while sending.")
        count += 1
    return count


def deliver(message_id: uuid.UUID | str) -> str:
    """The send task's body. Safe to run twice: only one run moves the message from
    scheduled to sending, and only that run sends."""
    return deliver_batch([str(message_id)]).get(str(message_id), "skipped")


def deliver_batch(message_ids: list[str]) -> dict[str, str]:
    """Sends what is due among `message_ids` and returns each one's outcome.

    A batch costs a claim (SELECT ... FOR UPDATE SKIP LOCKED, then one UPDATE), one
    SELECT, the provider calls (overlapped in DELIVERY_THREADS threads) and one
    transaction recording every send with its events, instead of all that per message.
    Only the run that claimed a message sends it, so a batch delivered twice sends once.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(
                pk__in=message_ids,
                status=DeliveryStatus.SCHEDULED,
                send_at__lte=now + timedelta(seconds=1),
            )
            .values_list("pk", flat=True)
        )
        if not claimed:
            return {}
        Message.objects.filter(pk__in=claimed).update(
            status=DeliveryStatus.SENDING,
            sending_started_at=now,
            send_attempts=F("send_attempts") + 1,
            updated_at=now,
        )
    messages = list(
        Message.objects.select_related(
            "conversation__flow__sender", "conversation__contact"
        ).filter(pk__in=claimed)
    )
    outcomes: dict[str, str] = {}
    ready = []
    for message in messages:
        early = _before_send(message, now)
        if early:
            outcomes[str(message.pk)] = early
        else:
            ready.append(message)
    if len(ready) > 1 and not connection.in_atomic_block:
        with ThreadPoolExecutor(max_workers=settings.DELIVERY_THREADS) as pool:
            results = list(pool.map(lambda m: _attempt_in_thread(m, now), ready))
    else:  # one message, or inside a transaction other threads could not see
        results = [_attempt(message, now) for message in ready]
    sent = []
    for message, (outcome, provider_id, status) in zip(ready, results, strict=True):
        outcomes[str(message.pk)] = outcome
        if outcome == "sent" and provider_id:  # (an unknown outcome found sent is recorded)
            sent.append((message, provider_id, status))
    _record_sent(sent, now)
    return outcomes


def _before_send(message: Message, now: datetime) -> str:
    """The checks just before a message leaves; an outcome if it must not leave now."""
    conversation = message.conversation
    flow, contact = conversation.flow, conversation.contact
    automatic = (message.metadata or {}).get("automatic")
    refusal = _refusal(flow, contact, compliance=automatic == "compliance")
    if refusal:
        _finish(message, DeliveryStatus.CANCELED, "message.canceled", error_message=refusal)
        return "canceled"
    hours = flow.working_hours()
    if not automatic and not is_open(now, hours):
        # The hours changed since it was scheduled: wait for the next opening again.
        # Not an attempt: give back the one the claim counted.
        Message.objects.filter(pk=message.pk).update(
            status=DeliveryStatus.DRAFT, send_attempts=F("send_attempts") - 1
        )
        message.status = DeliveryStatus.DRAFT
        message_schedule(message=message, send_at=next_opening(now, hours))
        return "deferred"
    return ""


def _attempt_in_thread(message: Message, now: datetime) -> tuple[str, str, str]:
    try:
        return _attempt(message, now)
    finally:
        connection.close()  # this thread's connection goes back to the pool


def _attempt(message: Message, now: datetime) -> tuple[str, str, str]:
    """One provider call: ("sent", provider id, status), or another outcome already
    recorded here (errors are rare; each is handled on its own)."""
    conversation = message.conversation
    flow, contact = conversation.flow, conversation.contact
    try:
        provider_id, status = _send(message, flow, contact, now)
    except (sms_channel.SmsTransientError, email_channel.EmailTransientError) as exc:
        _retry_later(message, _error_text(exc))
        return "retrying", "", ""
    except sms_channel.SmsUnknownOutcomeError as exc:
        return _unknown_outcome(message, _error_text(exc)), "", ""
    except sms_channel.SmsPermanentError as exc:
        _finish(
            message,
            DeliveryStatus.FAILED,
            "message.failed",
            error_code=exc.code or "",
            error_message=exc.message,
        )
        if exc.opted_out:
            Contact.objects.filter(pk=contact.pk, opted_out_at__isnull=True).update(
                opted_out_at=timezone.now()
            )
        return "failed", "", ""
    except email_channel.EmailPermanentError as exc:
        _finish(message, DeliveryStatus.FAILED, "message.failed", error_message=exc.message)
        return "failed", "", ""
    except Exception:
        # A bug, not a provider answer: fail the message (with an event) rather than
        # leave it "sending", where the stale recovery would send it again.
        logger.exception("Sending message %s crashed", message.pk)
        _finish(message, DeliveryStatus.FAILED, "message.failed", error_message="Internal error.")
        return "failed", "", ""
    # Stored at once, not with the batch: Twilio's status callback may come back before
    # the batch ends, and finds the message by this id. Only a row still "sending" moves,
    # so a callback that already moved it forward is not undone.
    Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
        status=status, provider_message_id=provider_id, sent_at=now, updated_at=now
    )
    return "sent", provider_id, status


def _record_sent(sent: list[tuple[Message, str, str]], now: datetime) -> None:
    """The batch's message.sent events, in one INSERT per workspace."""
    if not sent:
        return
    by_workspace: dict[object, list] = {}
    for message, provider_id, status in sent:
        message.status, message.provider_message_id = status, provider_id
        message.sent_at = message.updated_at = now
        by_workspace.setdefault(message.workspace_id, []).append(message)
    with transaction.atomic():
        for workspace_id, messages in by_workspace.items():
            events_record(
                workspace_id=workspace_id,
                events=[
                    ("message.sent", m.conversation_id, _event_data(m, m.conversation))
                    for m in messages
                ],
            )


def _refusal(flow: MessageFlow | None, contact: Contact | None, *, compliance: bool) -> str:
    if flow is None or contact is None:
        return "The conversation has no flow and recipient to send through."
    if not flow.is_active:
        return "The flow was deactivated before the message left."
    if contact.opted_out_at is not None and not compliance:
        # The confirmation of an opt-out is the one message still sent after it.
        return "The contact opted out before the message left."
    return ""


def _send(message: Message, flow: MessageFlow, contact: Contact, now: datetime) -> tuple[str, str]:
    address, service_sid = sender_for_flow(flow)
    if flow.message_channel == Channel.SMS:
        result = sms_channel.get_sms_backend().send(
            sms_channel.OutboundSms(
                to=contact.address,
                body=message.content,
                from_number="" if service_sid else address,
                messaging_service_sid=service_sid,
                status_callback=f"{settings.PUBLIC_BASE_URL}/v1/webhooks/twilio/status",
                validity_period=_validity(flow, now),
            )
        )
        return result.provider_message_id, DeliveryStatus.QUEUED
    return _send_email(message, flow, contact, address), DeliveryStatus.SENT


def _validity(flow: MessageFlow, now: datetime) -> int:
    """Seconds Twilio may keep the SMS queued: never past the flow's closing time, so a
    message stuck at Twilio expires instead of arriving at night."""
    closing = next_closing(now, flow.working_hours())
    if closing is None:
        return MAX_VALIDITY
    return int(min(MAX_VALIDITY, max(MIN_VALIDITY, (closing - now).total_seconds())))


def _send_email(message: Message, flow: MessageFlow, contact: Contact, from_email: str) -> str:
    domain = settings.EMAIL_DOMAIN
    earlier = list(
        Message.objects.filter(conversation_id=message.conversation_id)
        .exclude(pk=message.pk)
        .exclude(provider_message_id="")
        .filter(created_at__lte=message.created_at)
        .order_by("created_at")
        .values_list("provider_message_id", flat=True)
    )
    token = email_channel.unsubscribe_token(
        contact_id=str(contact.pk), workspace_id=str(contact.workspace_id)
    )
    email = email_channel.build_email(
        message_id=str(message.pk),
        to=contact.address,
        from_email=from_email,
        subject=flow.email_subject_line,
        body=message.content,
        signature=flow.email_signature,
        reply_to=email_channel.reply_address(
            conversation_id=str(message.conversation_id), domain=domain
        ),
        references=earlier,
        unsubscribe_url=f"{settings.PUBLIC_BASE_URL}/unsubscribe/{token}",
        domain=domain,
    )
    return email_channel.send_email(email)


def _error_text(exc: Exception) -> str:
    return getattr(exc, "message", "") or str(exc)


def _finish(message: Message, status: str, event: str, **fields: object) -> None:
    now = timezone.now()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
            status=status, updated_at=now, **fields
        )
        # The row now holds exactly these values; no need to read it back.
        for name, value in {"status": status, "updated_at": now, **fields}.items():
            setattr(message, name, value)
        _event(message, message.conversation, event)


def _retry_later(message: Message, error: str) -> None:
    """The provider certainly did not take it: send again later, with exponential
    backoff and jitter, up to DELIVERY_MAX_ATTEMPTS attempts."""
    if message.send_attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        _finish(message, DeliveryStatus.FAILED, "message.failed", error_message=error)
        return
    base = min(600.0, 5.0 * 2 ** (message.send_attempts - 1))
    retry_at = timezone.now() + timedelta(seconds=random.uniform(base / 2, base))  # noqa: S311
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.DRAFT, error_message=error
        )
        message.refresh_from_db()
        message_schedule(message=message, send_at=retry_at)


def _unknown_outcome(message: Message, error: str) -> str:
    """The request may have reached Twilio: look before sending again, never blindly."""
    conversation = message.conversation
    flow, contact = conversation.flow, conversation.contact
    if flow is not None and contact is not None and flow.message_channel == Channel.SMS:
        address, service_sid = sender_for_flow(flow)
        since = (message.sending_started_at or timezone.now()) - timedelta(minutes=1)
        known = frozenset(
            Message.objects.filter(conversation__contact=contact, sent_at__gte=since)
            .exclude(provider_message_id="")
            .values_list("provider_message_id", flat=True)
        )
        try:
            found = sms_channel.get_sms_backend().find_sent(
                to=contact.address,
                from_number="" if service_sid else address,
                messaging_service_sid=service_sid,
                sent_after=since,
                body=message.content,
                exclude=known,
            )
        except sms_channel.SmsError:
            # Cannot tell yet: keep it "sending"; recover_stale_sending asks again later.
            return "unknown"
        if found:
            _finish(
                message,
                DeliveryStatus.QUEUED,
                "message.sent",
                provider_message_id=found,
                sent_at=message.sending_started_at,
            )
            return "sent"
    _retry_later(message, error)
    return "retrying"


def message_status_update(*, provider_message_id: str, status: str, error_code: str = "") -> bool:
    """A provider's status callback: moves the status forward only, so a late or
    repeated callback never moves it back. Returns whether anything changed."""
    new = {
        "queued": DeliveryStatus.QUEUED,
        "accepted": DeliveryStatus.QUEUED,
        "scheduled": DeliveryStatus.QUEUED,
        "sending": DeliveryStatus.QUEUED,
        "sent": DeliveryStatus.SENT,
        "delivered": DeliveryStatus.DELIVERED,
        "read": DeliveryStatus.DELIVERED,
        "undelivered": DeliveryStatus.UNDELIVERED,
        "failed": DeliveryStatus.FAILED,
    }.get(status)
    if new is None:
        return False
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("conversation")
            .filter(provider_message_id=provider_message_id)
            .first()
        )
        if message is None or RANK.get(message.status, 0) >= RANK[new]:
            return False
        message.status = new
        message.error_code = error_code or message.error_code
        message.save(update_fields=["status", "error_code", "updated_at"])
        if new in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
            kind = "message.delivered" if new == DeliveryStatus.DELIVERED else "message.failed"
            _event(message, message.conversation, kind)
        if error_code == "21610":
            Contact.objects.filter(
                conversations__messages=message, opted_out_at__isnull=True
            ).update(opted_out_at=timezone.now())
    return True
