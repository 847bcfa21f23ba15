"""Outbound delivery: the claim that makes a due message leave once, the checks just
before it leaves, the provider call and what its answer means. When a message may leave
is conversations.scheduling.

Life cycle: draft → scheduled → sending → queued (SMS, Twilio has it) / sent (email)
→ sent → delivered, or failed / undelivered; draft and scheduled may be canceled.

Pacing: just before the provider call each message waits for a slot of its sender
(channels.throttle), so no sender goes faster than its max per second across every
worker. Replies take the next slot; a campaign's messages (metadata `campaign_id`) only
free ones, and beyond a few seconds' wait go back to `scheduled` for a moment later
(not an attempt, not a failure). A provider's rate error (Twilio 20429, 429; 30001
queue overflow in a status callback) slows the sender down the same way.
"""

import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from channels import email as email_channel
from channels import sms as sms_channel
from channels import throttle
from channels.errors import PermanentError, TransientError, TransportError, UnknownOutcomeError
from channels.models import Channel
from channels.services import default_sender, sender_address
from conversations.events import events_record
from conversations.models import Contact, DeliveryStatus, Message
from conversations.scheduling import (
    enqueue_send,
    message_event,
    message_event_data,
    message_schedule,
)
from core import db, jobs
from core.lookups import parse_id
from core.models import update_fields
from core.retry import backoff
from flows.local_time import RecipientHours, recipient_zones
from flows.models import MessageFlow
from flows.services import flow_sender_address

logger = logging.getLogger(__name__)
T = TypeVar("T")


def sending_timeout() -> timedelta:
    """How long a message may stay `sending` before it counts as left by a dead worker."""
    return timedelta(seconds=settings.DELIVERY_SENDING_TIMEOUT)


# Twilio takes 1 to 36000 seconds; its own default is 36000.
MAX_VALIDITY = 36_000
MIN_VALIDITY = 60

# Twilio's answers that mean "this sender goes too fast": 20429 (and a bare 429) from
# the API, 30001 (queue overflow) in a status callback.
RATE_ERROR_CODES = frozenset({"20429", "429", "30001"})
QUEUE_OVERFLOW_CODE = "30001"
# A campaign's message deferred for its sender's rate is due again this long before its
# place in the sender's queue: the sweep (every 2 s, its batches after single sends in
# the queue) hands it out in time to plan it within the horizon (throttle.HORIZON, more
# than the sweep's period). No task per deferred message: a task waiting in a worker
# for its countdown would sit ahead of a reply there.
RETURN_LEAD = 2.0
# Deferred messages are written back a statement per slice of this many seconds.
RETURN_BUCKET = 0.5
# A message's metadata key that marks it as bulk (a campaign's).
BULK_KEY = "campaign_id"

# Forward-only status moves for provider callbacks.
RANK = {
    DeliveryStatus.QUEUED: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.UNDELIVERED: 4,
    DeliveryStatus.FAILED: 4,
}


def recipient_hours(flow: MessageFlow, contact: Contact | None) -> RecipientHours:
    """The flow's working hours, in the recipient's own zone when the flow says so
    (flows.local_time): the zone given for the customer, else the phone number's, else
    the flow's."""
    hours = flow.working_hours()
    if not flow.working_hours_recipient_local or contact is None or hours.always_open:
        return RecipientHours.of(hours)
    details = (contact.metadata or {}).get("customerDetails")
    declared = details.get("timezone") if isinstance(details, dict) else None
    zones = recipient_zones(
        declared=declared,
        channel=flow.message_channel,
        address=contact.address,
        fallback=hours.timezone,
    )
    return RecipientHours(hours, zones)


def sender_pace(flow: MessageFlow) -> throttle.Pace:
    """The pace of the flow's sender: its own sender, else the workspace's default for
    the channel, else the deployment's shared address."""
    sender = (
        flow.sender if flow.sender_id else default_sender(flow.workspace_id, flow.message_channel)
    )
    address, service_sid = sender_address(sender=sender, channel=flow.message_channel)
    return throttle.pace_for(
        sender=sender, channel=flow.message_channel, address=address, service_sid=service_sid
    )


def is_bulk(message: Message) -> bool:
    return bool((message.metadata or {}).get(BULK_KEY))


def recover_stale_sending() -> int:
    """Messages left `sending` by a worker that died: re-checked like an unknown outcome."""
    stale = Message.objects.filter(
        status=DeliveryStatus.SENDING, sending_started_at__lte=timezone.now() - sending_timeout()
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
    planned, deferred = _plan_bulk(ready)
    for message in deferred:
        outcomes[str(message.pk)] = "deferred"
    ready = [message for message in ready if message.pk not in {m.pk for m in deferred}]
    if len(ready) > 1 and not connection.in_atomic_block:
        with ThreadPoolExecutor(max_workers=settings.DELIVERY_THREADS) as pool:
            results = list(pool.map(lambda m: _attempt_in_thread(m, now, planned), ready))
    else:  # one message, or inside a transaction other threads could not see
        results = [_attempt(message, now, planned) for message in ready]
    sent = []
    for message, (outcome, provider_id, status) in zip(ready, results, strict=True):
        outcomes[str(message.pk)] = outcome
        if outcome == "sent" and provider_id:  # (an unknown outcome found sent is recorded)
            sent.append((message, provider_id, status))
    _once_more(lambda: _record_sent(sent, now))
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
    hours = recipient_hours(flow, contact)
    if not automatic and not hours.is_open(now):
        # The hours changed since it was scheduled: wait for the next opening again.
        # Not an attempt: give back the one the claim counted.
        Message.objects.filter(pk=message.pk).update(
            status=DeliveryStatus.DRAFT, send_attempts=F("send_attempts") - 1
        )
        message.status = DeliveryStatus.DRAFT
        message_schedule(message=message, send_at=hours.next_opening(now))
        return "deferred"
    return ""


def _put_back(message: Message, seconds: float, **fields: object) -> None:
    """Back to `scheduled`, `seconds` from now, without counting an attempt: the
    sender had no slot for it, which says nothing about the message. A reply gets its
    own task at that time; a campaign's message is the sweep's again."""
    now = timezone.now()
    send_at = now + timedelta(seconds=max(0.0, seconds))
    task = not is_bulk(message) and seconds <= jobs.MAX_COUNTDOWN
    moved = _once_more(
        lambda: Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SCHEDULED,
            send_at=send_at,
            enqueued_at=send_at if task else None,
            send_attempts=F("send_attempts") - 1,
            updated_at=now,
            **fields,
        )
    )
    if moved and task:
        message_id = str(message.pk)
        transaction.on_commit(lambda: enqueue_send(message_id, send_at))


def _once_more(write: Callable[[], T]) -> T:
    """Runs `write`, and once more on a new connection if the database dropped this
    thread's (a restart, a failover): a worker that slept until its sender's slot must
    not lose track of a message it sent because its old connection died meanwhile."""
    try:
        return write()
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        db.reconnect()
        return write()


def _still_ours(message: Message) -> bool:
    """Marks the send as starting now, unless the message has already been left long
    enough for recover_stale_sending to take it for abandoned (a batch's message that
    waited for a thread, or a worker stalled past DELIVERY_SENDING_TIMEOUT): then it is
    not sent here but left to the recovery, which looks at Twilio first. Either this
    worker sends or the recovery decides, never both: the recovery takes only rows
    older than the timeout, and this update moves only rows younger than it.

    A message claimed less than half the timeout ago needs no update (its row, whose
    time a slot's wait may only have moved later, cannot be stale before the request
    is out): that is every message of a batch that did not queue for long."""
    now = timezone.now()
    started = message.sending_started_at  # as claimed; the row's is the same or later
    if started is not None and now - started < sending_timeout() / 2:
        return True
    return bool(
        _once_more(
            lambda: Message.objects.filter(
                pk=message.pk,
                status=DeliveryStatus.SENDING,
                sending_started_at__gt=now - sending_timeout(),
            ).update(sending_started_at=now)
        )
    )


def _sending_from(message_ids: list, seconds: float) -> None:
    """Claimed messages that first wait for their sender's slot: their send starts
    `seconds` from now, and only DELIVERY_SENDING_TIMEOUT after that may
    recover_stale_sending take them for left by a dead worker (and send them again)."""
    _once_more(
        lambda: Message.objects.filter(pk__in=message_ids, status=DeliveryStatus.SENDING).update(
            sending_started_at=timezone.now() + timedelta(seconds=seconds)
        )
    )


def _slice(at: datetime) -> datetime:
    start = math.floor(at.timestamp() / RETURN_BUCKET) * RETURN_BUCKET
    return datetime.fromtimestamp(start, tz=UTC)


def _plan_bulk(messages: list[Message]) -> tuple[dict, list[Message]]:
    """The batch's campaign messages, sender by sender in one throttle call each:
    ({message pk: (pace, the monotonic instant of its slot)} of those planned within the
    horizon, the others). The
    others go back to `scheduled`, due RETURN_LEAD before their places in the sender's
    queue, a statement per slice of RETURN_BUCKET seconds: a backlog of thousands costs
    a few statements per batch, not a round trip per message."""
    by_pace: dict[throttle.Pace, list[Message]] = defaultdict(list)
    for message in messages:
        if is_bulk(message):
            by_pace[sender_pace(message.conversation.flow)].append(message)
    planned: dict = {}
    deferred: list[Message] = []
    now = timezone.now()
    slices: dict[datetime, list[object]] = defaultdict(list)
    for pace, group in by_pace.items():
        for message, slot in zip(group, throttle.plan(pace, count=len(group)), strict=True):
            if slot.go:
                # When, not how long: a thread may take it up only after another message.
                planned[message.pk] = (pace, time.monotonic() + slot.wait)
            else:
                deferred.append(message)
                due = now + timedelta(seconds=max(0.0, slot.wait - RETURN_LEAD))
                slices[_slice(due)].append(message.pk)
    if planned:
        # Sleeping until their slots is not a send yet: nothing may take them for stale.
        latest = max(at for _, at in planned.values()) - time.monotonic()
        _sending_from(list(planned), latest + throttle.HORIZON)
    for send_at, ids in slices.items():
        Message.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SCHEDULED,
            send_at=send_at,
            enqueued_at=None,  # the sweep's again
            send_attempts=F("send_attempts") - 1,  # pacing is not an attempt
            updated_at=now,
        )
    return planned, deferred


def _wait_for_slot(message: Message, pace: throttle.Pace, planned: float | None) -> bool:
    """Sleeps until the message's sender has a slot for it and returns True; or puts
    the message back for later and returns False. `planned`: a campaign message's
    planned instant (time.monotonic(), _plan_bulk)."""
    if planned is None:
        slot = throttle.reply(pace)
        if not slot.go:
            _put_back(message, slot.wait)
            return False
        if slot.wait > 0:
            _sending_from([message.pk], slot.wait)
            time.sleep(slot.wait)
        return True
    time.sleep(max(0.0, planned - time.monotonic()))
    # Replies may have taken the planned slot meanwhile: wait for the next free one,
    # but never longer than a horizon more.
    deadline = time.monotonic() + throttle.HORIZON
    taken = throttle.take(pace)
    while not taken.go and time.monotonic() + taken.wait <= deadline:
        time.sleep(taken.wait)
        taken = throttle.take(pace)
    if not taken.go:
        _put_back(message, taken.wait)
    return taken.go


def _attempt_in_thread(message: Message, now: datetime, planned: dict) -> tuple[str, str, str]:
    try:
        return _attempt(message, now, planned)
    finally:
        connection.close()  # this thread's connection goes back to the pool


def _attempt(message: Message, now: datetime, planned: dict) -> tuple[str, str, str]:
    """One provider call: ("sent", provider id, status), or another outcome already
    recorded here (errors are rare; each is handled on its own)."""
    conversation = message.conversation
    flow, contact = conversation.flow, conversation.contact
    pace, wait = planned.get(message.pk, (sender_pace(flow), None))
    sender = flow_sender_address(flow)  # before the wait: no database between it and the send
    if not _wait_for_slot(message, pace, wait):
        return "deferred", "", ""
    if not _still_ours(message):
        return "skipped", "", ""
    now = timezone.now()
    try:
        provider_id, status = _send(message, flow, contact, now, sender)
    except DatabaseError:
        # Only ever before the provider call (_send reads, then sends): nothing left, so
        # it goes again shortly, on a new connection.
        logger.warning("The database failed before message %s was sent", message.pk)
        db.reconnect()
        _put_back(message, 5.0)
        return "retrying", "", ""
    except TransientError as exc:
        if exc.code in RATE_ERROR_CODES:
            _slow_down(message, pace, exc)
        else:
            _retry_later(message, _error_text(exc))
        return "retrying", "", ""
    except UnknownOutcomeError as exc:
        return _unknown_outcome(message, _error_text(exc)), "", ""
    except PermanentError as exc:
        _finish(
            message,
            DeliveryStatus.FAILED,
            "message.failed",
            error_code=exc.code or "",
            error_message=exc.message,
        )
        if sms_channel.is_opted_out(exc):
            Contact.objects.filter(pk=contact.pk, opted_out_at__isnull=True).update(
                opted_out_at=timezone.now()
            )
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
    _once_more(
        lambda: Message.objects.filter(pk=message.pk, status=DeliveryStatus.SENDING).update(
            status=status, provider_message_id=provider_id, sent_at=now, updated_at=now
        )
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
                    ("message.sent", m.conversation_id, message_event_data(m, m.conversation))
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


def _send(
    message: Message,
    flow: MessageFlow,
    contact: Contact,
    now: datetime,
    sender: tuple[str, str],
) -> tuple[str, str]:
    address, service_sid = sender
    if flow.message_channel == Channel.SMS:
        result = sms_channel.get_sms_backend().send(
            sms_channel.OutboundSms(
                to=contact.address,
                body=message.content,
                from_number="" if service_sid else address,
                messaging_service_sid=service_sid,
                status_callback=status_callback_url(message.pk),
                validity_period=_validity(flow, contact, now),
                private=message.conversation.hipaa,
            )
        )
        return result.provider_message_id, DeliveryStatus.QUEUED
    return _send_email(message, flow, contact, address), DeliveryStatus.SENT


def _validity(flow: MessageFlow, contact: Contact, now: datetime) -> int:
    """Seconds Twilio may keep the SMS queued: never past the flow's closing time (the
    recipient's, when the flow's hours are theirs), so a message stuck at Twilio expires
    instead of arriving at night."""
    closing = recipient_hours(flow, contact).next_closing(now)
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
        private=message.conversation.hipaa,
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
        update_fields(message, {"status": status, "updated_at": now, **fields})
        message_event(message, message.conversation, event)


def rate_penalty(pace: throttle.Pace, retry_after: float | None) -> float:
    """How long a sender the provider found too fast stays silent: what the provider
    asked for, else a second or five intervals, whichever is longer."""
    return max(retry_after or 0.0, 1.0, 5 * pace.interval)


def _slow_down(message: Message, pace: throttle.Pace, exc: TransientError) -> None:
    """Twilio refused for the sender's rate: every worker pauses the sender, and the
    message goes again after the pause (not an attempt: it never left)."""
    seconds = rate_penalty(pace, exc.retry_after)
    throttle.penalize(pace, seconds=seconds)
    logger.warning("Sender %s is over its rate (%s); pausing %.1f s", pace.key, exc.code, seconds)
    _put_back(message, seconds, error_code=exc.code or "", error_message=_error_text(exc))


def _retry_later(message: Message, error: str) -> None:
    """The provider certainly did not take it: send again later, with exponential
    backoff and jitter, up to DELIVERY_MAX_ATTEMPTS attempts."""
    if message.send_attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        _finish(message, DeliveryStatus.FAILED, "message.failed", error_message=error)
        return
    delay = backoff(message.send_attempts, first=5.0, cap=600.0)
    retry_at = timezone.now() + timedelta(seconds=delay)
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
        address, service_sid = flow_sender_address(flow)
        since = (message.sending_started_at or timezone.now()) - timedelta(minutes=1)
        known = frozenset(
            Message.objects.filter(conversation__contact=contact, sent_at__gte=since)
            .exclude(provider_message_id="")
            .values_list("provider_message_id", flat=True)
        )
        try:
            sent = sms_channel.OutboundSms(
                to=contact.address,
                body=message.content,
                from_number="" if service_sid else address,
                messaging_service_sid=service_sid,
            )
            found = sms_channel.get_sms_backend().find_sent(sent, sent_after=since, exclude=known)
        except TransportError:
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


def status_callback_url(message_id: uuid.UUID) -> str:
    """Where Twilio reports a message's status. The URL names the message, and Twilio
    signs the whole URL, so a callback can only ever reach the one message it is for,
    whatever the provider id (ids are unique per workspace, not across workspaces)."""
    return f"{settings.PUBLIC_BASE_URL}/v1/webhooks/twilio/status?message={message_id}"


def message_status_update(
    *, provider_message_id: str, status: str, error_code: str = "", message_id: str = ""
) -> bool:
    """A provider's status callback: moves the status forward only, so a late or
    repeated callback never moves it back. Returns whether anything changed.

    `message_id` is the one in the callback URL (status_callback_url). Callbacks of
    messages sent before the URL carried it match by provider id alone, and only when
    exactly one message has that id."""
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
        candidates = Message.objects.select_for_update().filter(
            provider_message_id=provider_message_id
        )
        if message_id:
            candidates = candidates.filter(pk=parse_id(message_id))
        found = list(candidates.select_related("conversation")[:2])
        if len(found) != 1:
            if len(found) > 1:
                logger.warning(
                    "Status callback for %s matches several messages", provider_message_id
                )
            return False
        message = found[0]
        if RANK.get(message.status, 0) >= RANK[new]:
            return False
        if error_code == QUEUE_OVERFLOW_CODE and new in (
            DeliveryStatus.FAILED,
            DeliveryStatus.UNDELIVERED,
        ):
            return _queue_overflow(message)
        message.status = new
        message.error_code = error_code or message.error_code
        message.save(update_fields=["status", "error_code", "updated_at"])
        if new in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED):
            kind = "message.delivered" if new == DeliveryStatus.DELIVERED else "message.failed"
            message_event(message, message.conversation, kind)
        if error_code == "21610":
            Contact.objects.filter(
                conversations__messages=message, opted_out_at__isnull=True
            ).update(opted_out_at=timezone.now())
    return True


def _queue_overflow(message: Message) -> bool:
    """Twilio dropped the message from the sender's full queue (30001): it never reached
    the carrier. The sender slows down and the message goes again after the pause, up to
    DELIVERY_MAX_ATTEMPTS; a late callback about the dropped send matches nothing (the
    provider id is cleared). Call with the message locked."""
    if message.send_attempts >= settings.DELIVERY_MAX_ATTEMPTS:
        message.status = DeliveryStatus.FAILED
        message.error_code = QUEUE_OVERFLOW_CODE
        message.save(update_fields=["status", "error_code", "updated_at"])
        message_event(message, message.conversation, "message.failed")
        return True
    flow = message.conversation.flow
    seconds = 1.0
    if flow is not None:
        pace = sender_pace(flow)
        seconds = rate_penalty(pace, None)
        throttle.penalize(pace, seconds=seconds)
    message.status = DeliveryStatus.SCHEDULED
    message.send_at = timezone.now() + timedelta(seconds=seconds)
    message.enqueued_at = None  # the sweep takes it when due
    message.provider_message_id = ""
    message.error_code = QUEUE_OVERFLOW_CODE
    message.error_message = "Queue overflow at Twilio; sent again after a pause."
    message.save(
        update_fields=[
            "status",
            "send_at",
            "enqueued_at",
            "provider_message_id",
            "error_code",
            "error_message",
            "updated_at",
        ]
    )
    message_event(message, message.conversation, "message.scheduled")
    return True
