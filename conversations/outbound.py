"""Opening outbound conversations (seed 000): the flow's initiation message to a
recipient, rendered, and either scheduled (autopilot) or left as a draft."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from channels.addresses import AddressError, normalize_address
from channels.models import Channel
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.scheduling import message_schedule, send_time
from conversations.services import contact_upsert, conversation_open_for, message_create
from core.errors import ApplicationError
from flows import placeholders
from flows.models import Direction, MessageFlow
from flows.selectors import flow_for_workspace
from workspaces.models import Workspace

FORMATS = {
    Channel.SMS: "an E.164 phone number (e.g. +14155550123)",
    Channel.EMAIL: "an email address (e.g. user@example.com)",
}


def _flow(workspace: Workspace, flow_id: object) -> MessageFlow:
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


def _contact_details(contact: Contact, name: str, details: dict) -> None:
    changed = []
    if name and contact.name != name:
        contact.name = name
        changed.append("name")
    if details:
        contact.metadata = {
            **contact.metadata,
            "customerDetails": {**contact.metadata.get("customerDetails", {}), **details},
        }
        changed.append("metadata")
    if changed:
        contact.save(update_fields=[*changed, "updated_at"])


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
    flow = _flow(workspace, flow_id)
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
    with transaction.atomic():
        contact = contact_upsert(
            workspace_id=workspace.pk, channel=flow.message_channel, address=address
        )
        _contact_details(contact, name, customer_details)
        if contact.opted_out_at is not None:
            raise ApplicationError(
                f"{address} has opted out of {flow.message_channel} messages; nothing was sent.",
                code="contact_opted_out",
            )
        conversation = conversation_open_for(workspace=workspace, flow=flow, contact=contact)
        if dynamic:
            earlier = conversation.context.get("dynamic")
            conversation.context = {
                **conversation.context,
                # context is free-form through the API: "dynamic" may hold anything there
                "dynamic": {**(earlier if isinstance(earlier, dict) else {}), **dynamic},
            }
            conversation.save(update_fields=["context", "updated_at"])
        message = message_create(
            conversation=conversation,
            role=Role.AGENT,
            text=text,
            sender_id=str(flow.pk),
            sender_type="flow",
            status=DeliveryStatus.DRAFT,
        )
        if autopilot:
            message_schedule(message=message, send_at=send_time(flow, now or timezone.now()))
    return conversation, message
