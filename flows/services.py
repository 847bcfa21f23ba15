from uuid import UUID

from django.db import transaction
from django.db.models import NOT_PROVIDED
from django.utils import timezone

from channels.services import default_sender, sender_address
from core.models import update_fields
from core.tenancy import ensure_same_workspace
from flows.models import MessageFlow
from workspaces.models import Workspace

# Fields a client may set; PUT resets the ones it leaves out to these models' defaults.
WRITABLE_FIELDS = (
    "name",
    "direction",
    "description",
    "agent",
    "prompt",
    "initiation_message",
    "is_active",
    "autopilot",
    "message_channel",
    "reply_delay_seconds",
    "working_hours_enabled",
    "working_hours_start",
    "working_hours_end",
    "working_hours_timezone",
    "out_of_hours_message",
    "working_hours_days",
    "sender",
    "hipaa_compliance",
    "email_subject_line",
    "email_signature",
)


def _defaults() -> dict:
    defaults = {}
    for name in WRITABLE_FIELDS:
        field = MessageFlow._meta.get_field(name)
        if field.default is not NOT_PROVIDED:
            defaults[name] = field.get_default()
        elif field.null:
            defaults[name] = None  # e.g. sender (the workspace default), days (every day)
        elif field.blank:
            defaults[name] = ""
    return defaults


def flow_create(*, workspace: Workspace, data: dict) -> MessageFlow:
    flow = MessageFlow(workspace=workspace, **data)
    ensure_same_workspace(flow)
    flow.save()
    return flow


def flow_update(*, flow: MessageFlow, data: dict, replace: bool = False) -> MessageFlow:
    """PATCH (replace=False) changes only what `data` names, nested settings included;
    PUT (replace=True) also resets every writable field `data` leaves out."""
    changes = {**_defaults(), **data} if replace else data
    update_fields(flow, changes)
    ensure_same_workspace(flow)
    flow.save()
    return flow


@transaction.atomic
def flows_set_active(*, workspace_id: UUID, flow_ids: list, active: bool) -> int:
    return MessageFlow.objects.filter(workspace_id=workspace_id, pk__in=flow_ids).update(
        is_active=active, updated_at=timezone.now()
    )


def flow_duplicate(*, flow: MessageFlow) -> MessageFlow:
    """A copy, inactive, so an operator can edit it before it speaks to anyone."""
    values = {name: getattr(flow, name) for name in WRITABLE_FIELDS}
    values.update(name=f"{flow.name} (copy)"[:200], is_active=False)
    return flow_create(workspace=flow.workspace, data=values)


def flow_sender_address(flow: MessageFlow) -> tuple[str, str]:
    """(address, messaging service SID) a flow sends from: its own sender, else the
    workspace's default for the channel, else the deployment's shared default."""
    sender = (
        flow.sender if flow.sender_id else default_sender(flow.workspace_id, flow.message_channel)
    )
    return sender_address(sender=sender, channel=flow.message_channel)
