"""Opening outbound conversations (seed 000): the flow's initiation message to a
recipient, rendered, and either scheduled (autopilot) or left as a draft.

One recipient (the seed's endpoint) and thousands (a campaign's batch) take the same
path: `recipient_prepare` checks and renders, `messages_generate` writes a whole batch
with a handful of statements (contacts, conversations, messages and their events, each
in one INSERT), so a batch of hundreds holds the workspace's event lock for one INSERT,
not for hundreds of round trips."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels.addresses import AddressError, normalize_address
from channels.models import Channel
from conversations import payloads
from conversations.delivery import recipient_hours
from conversations.events import events_record
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.scheduling import enqueue_send, message_event_data
from core import jobs
from core.crypto import encrypt_text
from core.errors import ApplicationError
from core.sealed import sealed_bulk_update
from flows import placeholders
from flows.models import Direction, MessageFlow
from flows.selectors import flow_for_workspace
from workspaces.models import Workspace

FORMATS = {
    Channel.SMS: "an E.164 phone number (e.g. +14155550123)",
    Channel.EMAIL: "an email address (e.g. user@example.com)",
}


def flow_for_sending(workspace: Workspace, flow_id: object) -> MessageFlow:
    """The workspace's flow, if it may open conversations: 404 when it is not the
    workspace's, 400 when it is inactive or inbound-only."""
    flow = flow_for_workspace(
        workspace=workspace, flow_id=flow_id, queryset=MessageFlow.objects.select_related("sender")
    )
    if not flow.is_active:
        raise ApplicationError(
            f"Message flow {flow_id} is not active; activate it to send.", code="flow_inactive"
        )
    if flow.direction == Direction.INBOUND:
        raise ApplicationError(
            f"Message flow {flow_id} is inbound-only; it cannot open conversations.",
            code="flow_inbound_only",
        )
    return flow


@dataclass(frozen=True)
class Recipient:
    """One recipient, checked and with the message rendered: what messages_generate takes."""

    address: str
    name: str
    details: dict
    dynamic: dict
    text: str


def recipient_prepare(
    *, flow: MessageFlow, to: str, customer_details: dict, dynamic: dict
) -> Recipient:
    """Checks a recipient against the flow (the address fits its channel; the dynamic
    values the message uses are scalars) and renders the message. Raises
    ApplicationError (validation_error) naming the field."""
    try:
        address = normalize_address(flow.message_channel, to)
    except AddressError as exc:
        raise ApplicationError(
            f"Field 'to' must be {FORMATS[flow.message_channel]} for this "
            f"{flow.message_channel} flow.",
            code="validation_error",
            errors={"to": [f"This {exc}."]},
        ) from None
    name = str(customer_details.get("name") or "")
    nested = placeholders.not_scalar(flow.initiation_message, dynamic=dynamic)
    if nested:
        raise ApplicationError(
            f"Field 'dynamic.{nested[0]}' must be text, a number or a boolean: the message "
            "uses it.",
            code="validation_error",
            errors={f"dynamic.{key}": ["Must be text, a number or a boolean."] for key in nested},
        )
    text = placeholders.render(
        flow.initiation_message,
        customer={**customer_details, "name": name} if name else customer_details,
        dynamic=dynamic,
    )
    return Recipient(
        address=address, name=name, details=customer_details, dynamic=dynamic, text=text
    )


@dataclass
class Generated:
    """A recipient's outcome: its conversation and message, or why it got none."""

    conversation: Conversation | None = None
    message: Message | None = None
    refusal: ApplicationError | None = None


def _contact_details(contact: Contact, name: str, details: dict) -> bool:
    """Merges what the request says of the customer into the contact; True if it changed."""
    changed = False
    if name and contact.name != name:
        contact.name = name
        changed = True
    if details:
        contact.metadata = {
            **contact.metadata,
            "customerDetails": {**contact.metadata.get("customerDetails", {}), **details},
        }
        changed = True
    return changed


def _contacts(
    workspace: Workspace, flow: MessageFlow, recipients: list[Recipient], now: datetime
) -> dict[str, Contact]:
    """The recipients' contacts by address, created if new and locked (in address order,
    so two batches never wait on each other in a circle) until the transaction ends. A
    HIPAA flow marks them so: their names and details are then sealed at rest."""
    channel = flow.message_channel
    addresses = sorted({r.address for r in recipients})
    Contact.objects.bulk_create(
        [
            Contact(workspace=workspace, channel=channel, address=a, created_at=now, updated_at=now)
            for a in addresses
        ],
        ignore_conflicts=True,
    )
    found = (
        Contact.objects.select_for_update()
        .filter(workspace=workspace, channel=channel, address__in=addresses)
        .order_by("address")
    )
    contacts = {contact.address: contact for contact in found}
    changed = {}
    for recipient in recipients:
        contact = contacts[recipient.address]
        reached = flow.hipaa_compliance and not contact.hipaa
        if reached:
            contact.hipaa = True
        if _contact_details(contact, recipient.name, recipient.details) or reached:
            contact.updated_at = now
            changed[contact.pk] = contact
    if changed:
        sealed_bulk_update(Contact, changed.values(), ["name", "metadata", "hipaa", "updated_at"])
    return contacts


def _open_conversations(
    workspace: Workspace, flow: MessageFlow, contacts: list[Contact], now: datetime
) -> tuple[dict[object, Conversation], set[object]]:
    """Each contact's open conversation in the flow (the newest), else a new one; and
    the ids of the new ones."""
    found: dict[object, Conversation] = {}
    for conversation in (
        Conversation.objects.select_for_update(of=("self",))
        .filter(contact__in=contacts, flow=flow, closed_at__isnull=True)
        .order_by("contact_id", "-created_at")
    ):
        found.setdefault(conversation.contact_id, conversation)
    new = [
        Conversation(
            workspace=workspace,
            flow=flow,
            contact=contact,
            channel=flow.message_channel,
            hipaa=flow.hipaa_compliance,
            created_at=now,
            updated_at=now,
        )
        for contact in contacts
        if contact.pk not in found
    ]
    Conversation.objects.bulk_create(new)
    found.update({conversation.contact_id: conversation for conversation in new})
    return found, {conversation.pk for conversation in new}


def messages_generate(
    *,
    workspace: Workspace,
    flow: MessageFlow,
    recipients: list[Recipient],
    autopilot: bool,
    now: datetime | None = None,
    metadata: dict | None = None,
    enqueue_each: bool = True,
    before_events: Callable[[list[Generated]], None] | None = None,
) -> list[Generated]:
    """The flow's opening message to each recipient, in one transaction: the contact is
    upserted by address (with the customer's details), the open conversation for
    (flow, contact) reused or opened, `dynamic` merged into its context, and the message
    stored as a draft or, with autopilot, scheduled after the flow's delay inside its
    working hours (in the recipient's own time when the flow says so). An opted-out
    contact gets nothing (its Generated carries the refusal).

    `enqueue_each`: a send task per due message after commit (one recipient: the seed's
    endpoint); otherwise the sweep (every 2 s) takes them, in batches. `metadata` is
    stored on every message (a campaign marks its own). `before_events(results)` runs
    in the transaction once the rows are written, before the events: those take the
    workspace's lock until commit, so a caller's own writes belong there, not after."""
    now = now or timezone.now()
    results = [Generated() for _ in recipients]
    if not recipients:
        if before_events is not None:
            before_events(results)
        return results
    with transaction.atomic():
        contacts = _contacts(workspace, flow, recipients, now)
        kept = []
        for index, recipient in enumerate(recipients):
            contact = contacts[recipient.address]
            if contact.opted_out_at is not None:
                results[index].refusal = ApplicationError(
                    f"{recipient.address} has opted out of {flow.message_channel} messages; "
                    "nothing was sent.",
                    code="contact_opted_out",
                )
            else:
                kept.append(index)
        if not kept:
            if before_events is not None:
                before_events(results)
            return results
        kept_contacts = {
            contacts[recipients[i].address].pk: contacts[recipients[i].address] for i in kept
        }
        conversations, new = _open_conversations(workspace, flow, list(kept_contacts.values()), now)
        with_context = {}
        messages = []
        for index in kept:
            recipient = recipients[index]
            contact = contacts[recipient.address]
            conversation = conversations[contact.pk]
            if recipient.dynamic:
                earlier = conversation.context.get("dynamic")
                conversation.context = {
                    **conversation.context,
                    # context is free-form through the API: "dynamic" may hold anything there
                    "dynamic": {
                        **(earlier if isinstance(earlier, dict) else {}),
                        **recipient.dynamic,
                    },
                }
                with_context[conversation.pk] = conversation
            send_at = None
            if autopilot:
                opening = now + timedelta(seconds=flow.reply_delay_seconds)
                send_at = recipient_hours(flow, contact).next_opening(opening)
            soon = send_at is not None and (send_at - now).total_seconds() <= jobs.MAX_COUNTDOWN
            message = Message(
                workspace_id=workspace.pk,
                conversation=conversation,
                role=Role.AGENT,
                sender_id=str(flow.pk),
                sender_type="flow",
                text=encrypt_text(recipient.text) if conversation.hipaa else recipient.text,
                metadata=dict(metadata or {}),
                status=DeliveryStatus.DRAFT,
                send_at=send_at,
                enqueued_at=send_at if soon and enqueue_each else None,
                created_at=now,
                updated_at=now,
            )
            messages.append(message)
            results[index].conversation = conversation
            results[index].message = message
        for conversation in with_context.values():
            conversation.updated_at = now
        sealed_bulk_update(Conversation, with_context.values(), ["context", "updated_at"])
        # Events as the one-recipient path always wrote them: the conversation's creation,
        # the message as a draft, then its scheduling.
        events = []
        for message in messages:
            conversation = message.conversation
            if conversation.pk in new:
                new.discard(conversation.pk)
                events.append(
                    (
                        "conversation.created",
                        conversation.pk,
                        payloads.conversation_event(conversation),
                    )
                )
            events.append(
                ("message.created", conversation.pk, payloads.message_event(message, conversation))
            )
            if message.send_at is not None:
                message.status = DeliveryStatus.SCHEDULED
                events.append(
                    (
                        "message.scheduled",
                        conversation.pk,
                        message_event_data(message, conversation),
                    )
                )
        Message.objects.bulk_create(messages)
        per_conversation = Counter(m.conversation_id for m in messages)
        for added in set(per_conversation.values()):  # one message each, by construction
            Conversation.objects.filter(
                pk__in=[pk for pk, n in per_conversation.items() if n == added]
            ).update(updated_at=now, message_count=F("message_count") + added)
        if before_events is not None:
            before_events(results)
        events_record(workspace_id=workspace.pk, events=events)
        if enqueue_each:
            for message in messages:
                if message.enqueued_at is not None:
                    transaction.on_commit(
                        lambda m=str(message.pk), at=message.send_at: enqueue_send(m, at)
                    )
    return results


def message_generate(
    *,
    workspace: Workspace,
    flow_id: object,
    to: str,
    customer_details: dict,
    dynamic: dict,
    autopilot: bool,
    now: datetime | None = None,
) -> tuple[Conversation, Message]:
    """Seed 000: one recipient. An opted-out contact is a 400 and nothing is stored."""
    flow = flow_for_sending(workspace, flow_id)
    recipient = recipient_prepare(
        flow=flow, to=to, customer_details=customer_details, dynamic=dynamic
    )
    with transaction.atomic():
        [result] = messages_generate(
            workspace=workspace, flow=flow, recipients=[recipient], autopilot=autopilot, now=now
        )
        if result.refusal is not None:
            raise result.refusal  # and the contact's new details are not kept either
    return result.conversation, result.message
