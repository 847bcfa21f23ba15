"""Customers answering: an inbound SMS or email becomes a user message in its
conversation, and the agent's answer is owed after the flow's quiet window, inside its
working hours. Opt-out keywords are honoured before anything else."""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from channels.models import Channel, Sender
from conversations.events import event_record
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.scheduling import message_schedule, messages_cancel_pending
from conversations.services import (
    contact_upsert,
    conversation_open_for,
    message_create,
    reply_owed,
)
from flows.models import Direction, MessageFlow
from flows.working_hours import is_open, next_opening
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# The carriers' keywords (CTIA): the whole message, case and punctuation aside.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# A person who answered in the conversation this recently is talking to the customer:
# no automatic out-of-hours message on top of theirs.
HUMAN_RECENT = timedelta(minutes=10)


def keyword(text: str) -> str:
    """'  Stop. ' -> 'STOP'; anything longer than one word is no keyword."""
    word = re.sub(r"[^\w]", "", text.strip()).upper()
    return word if word and " " not in text.strip() else ""


@dataclass(frozen=True)
class Route:
    workspace_id: object
    sender: Sender | None  # None: the deployment's shared number
    flow: MessageFlow | None


def route_sms(to: str, from_: str = "") -> Route | None:
    """The workspace's sender owning the number, and the flow answering on it. An SMS to
    the shared default number (TWILIO_FROM_NUMBER, which no workspace may register)
    belongs to the workspace whose conversation last wrote to that customer from it."""
    sender = Sender.objects.filter(channel=Channel.SMS, address=to).first()
    if sender is not None:
        return Route(workspace_id=sender.workspace_id, sender=sender, flow=inbound_flow(sender))
    if to and to == settings.TWILIO_FROM_NUMBER and from_:
        return _route_shared(from_)
    return None


def _route_shared(customer: str) -> Route | None:
    """The newest message sent to `customer` from the shared number: its flow named no
    sender and its workspace has no default SMS sender, so the shared number sent it."""
    with_default = Sender.objects.filter(channel=Channel.SMS, is_default=True).values(
        "workspace_id"
    )
    last = (
        Message.objects.filter(
            role=Role.AGENT,
            sent_at__isnull=False,
            conversation__contact__channel=Channel.SMS,
            conversation__contact__address=customer,
            conversation__flow__isnull=False,
            conversation__flow__sender__isnull=True,
        )
        .exclude(workspace_id__in=with_default)
        .select_related("conversation__flow__agent")
        .order_by("-sent_at")
        .first()
    )
    if last is None:
        return None
    return Route(workspace_id=last.workspace_id, sender=None, flow=last.conversation.flow)


def inbound_flow(sender: Sender) -> MessageFlow | None:
    """The active inbound or bidirectional flow of the sender's channel bound to it (else
    one using the workspace default, if this is the default). SMS and email alike."""
    flows = MessageFlow.objects.filter(
        workspace_id=sender.workspace_id,
        is_active=True,
        message_channel=sender.channel,
        direction__in=[Direction.INBOUND, Direction.BIDIRECTIONAL],
    ).select_related("agent")
    bound = Q(sender=sender) | (Q(sender__isnull=True) if sender.is_default else Q(pk__in=[]))
    return flows.filter(bound).order_by("sender_id", "-created_at").first()


def inbound_receive(
    *,
    workspace_id: object,
    flow: MessageFlow | None,
    channel: str,
    from_address: str,
    text: str,
    provider_message_id: str,
    conversation: Conversation | None = None,
    now: datetime | None = None,
) -> Message | None:
    """Stores the customer's message and decides what follows. Returns None when the
    provider's id was seen before (a repeated webhook stores nothing new; two arriving
    at once are told apart by the unique constraint on the id)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            if _seen_before(workspace_id, provider_message_id):
                return None
            contact = contact_upsert(
                workspace_id=workspace_id, channel=channel, address=from_address
            )
            conversation = conversation or conversation_open_for(
                workspace=Workspace.objects.get(pk=workspace_id), flow=flow, contact=contact
            )
            message = message_create(
                conversation=conversation,
                role=Role.USER,
                text=text,
                sender_id=contact.address,
                sender_type="contact",
                status=DeliveryStatus.RECEIVED,
                provider_message_id=provider_message_id,
            )
            event_record(
                workspace_id=workspace_id,
                type="message.received",
                conversation_id=conversation.pk,
                data={
                    "conversationId": str(conversation.pk),
                    "messageId": str(message.pk),
                    "status": message.status,
                    "channel": channel,
                    **({} if conversation.hipaa else {"text": text}),
                },
            )
            _follow_up(conversation, contact, text, channel, now)
            return message
    except IntegrityError:
        if _seen_before(workspace_id, provider_message_id):
            return None
        raise


def _seen_before(workspace_id: object, provider_message_id: str) -> bool:
    """A provider's id names one message per workspace (a repeated webhook)."""
    return bool(provider_message_id) and (
        Message.objects.filter(
            workspace_id=workspace_id, provider_message_id=provider_message_id
        ).exists()
    )


def _follow_up(
    conversation: Conversation, contact: Contact, text: str, channel: str, now: datetime
) -> None:
    """Opt-out keywords first; otherwise the agent's answer is owed."""
    word = keyword(text) if channel == Channel.SMS else ""
    if word in STOP_WORDS:
        contact_opt_out(contact=contact, reason=f"keyword {word}")
        _confirm(conversation, settings.SMS_OPT_OUT_MESSAGE)
    elif word in START_WORDS and contact.opted_out_at is not None:
        contact_opt_in(contact=contact, reason=f"keyword {word}")
        _confirm(conversation, settings.SMS_OPT_IN_MESSAGE)
    elif word in HELP_WORDS:
        help_text = conversation.workspace.help_text or settings.SMS_HELP_MESSAGE
        _confirm(conversation, help_text, always=True)
    elif contact.opted_out_at is None:
        _answer_later(conversation, now)


def _confirm(conversation: Conversation, text: str, *, always: bool = False) -> None:
    """Opt-out and help answers: sent by the service unless Twilio's Advanced Opt-Out
    sends them (SMS_OPT_OUT_CONFIRMATIONS=twilio); HELP is ours either way."""
    if not text or (settings.SMS_OPT_OUT_CONFIRMATIONS != "service" and not always):
        return
    _send_now(conversation, text, kind="compliance")


def _send_now(conversation: Conversation, text: str, *, kind: str) -> Message:
    message = message_create(
        conversation=conversation,
        role=Role.AGENT,
        text=text,
        sender_type="system",
        metadata={"automatic": kind},
        status=DeliveryStatus.DRAFT,
    )
    return message_schedule(message=message, send_at=timezone.now())


def _answer_later(conversation: Conversation, now: datetime) -> None:
    """The flow answering on this address owes a reply, after its quiet window and
    inside its working hours, as for every customer message (reply_owed); out of hours
    the customer is told so at once."""
    flow = conversation.flow
    if flow is None:
        return  # no flow answers on this address
    if reply_owed(conversation=conversation, now=now) is None:
        return  # paused by a person, or no agent
    hours = flow.working_hours()
    if not is_open(now, hours):
        _out_of_hours(conversation, flow, now, next_opening(now, hours))


def _out_of_hours(
    conversation: Conversation, flow: MessageFlow, now: datetime, opening: datetime
) -> None:
    """Once per closed period (same next opening), and not over a person's answer."""
    if not flow.out_of_hours_message:
        return
    sent = conversation.out_of_hours_sent_at
    if sent is not None and next_opening(sent, flow.working_hours()) == opening:
        return
    human = (
        conversation.messages.filter(role=Role.AGENT, created_at__gte=now - HUMAN_RECENT)
        .exclude(sender_type__in=["system", "flow"])
        .exclude(sender_id=str(flow.agent_id))
    )
    if human.exists():
        return
    Conversation.objects.filter(pk=conversation.pk).update(out_of_hours_sent_at=now)
    _send_now(conversation, flow.out_of_hours_message, kind="out_of_hours")


def contact_opt_out(*, contact: Contact, reason: str) -> bool:
    """The contact opts out: pending messages are canceled and no reply is owed."""
    with transaction.atomic():
        changed = _contact_opt(contact, opted_out=True, reason=reason)
        if changed:
            messages_cancel_pending(contact=contact, reason=f"Contact opted out ({reason}).")
            Conversation.objects.filter(contact=contact).update(reply_due_at=None)
    return changed


def contact_opt_in(*, contact: Contact, reason: str) -> bool:
    with transaction.atomic():
        return _contact_opt(contact, opted_out=False, reason=reason)


def _contact_opt(contact: Contact, *, opted_out: bool, reason: str) -> bool:
    """Moves the contact in or out with one conditional UPDATE (so of two STOPs one
    reports it) and records the event; False when it was so already."""
    updated = Contact.objects.filter(pk=contact.pk, opted_out_at__isnull=opted_out).update(
        opted_out_at=timezone.now() if opted_out else None
    )
    contact.refresh_from_db()
    if updated:
        event_record(
            workspace_id=contact.workspace_id,
            type="contact.opted_out" if opted_out else "contact.opted_in",
            data={"contactId": str(contact.pk), "channel": contact.channel, "reason": reason},
        )
    return bool(updated)
