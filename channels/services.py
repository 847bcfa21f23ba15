import time

from django.conf import settings
from django.db import IntegrityError, transaction

from channels.models import Channel, Sender
from core.errors import Conflict
from core.models import update_fields
from workspaces.models import Workspace


def _save(sender: Sender) -> Sender:
    try:
        with transaction.atomic():
            if sender.is_default:
                Sender.objects.filter(
                    workspace_id=sender.workspace_id, channel=sender.channel, is_default=True
                ).exclude(pk=sender.pk).update(is_default=False)
            sender.save()
        _DEFAULTS.clear()  # this process at once; other workers within the TTL
    except IntegrityError:
        raise Conflict(
            f"The address {sender.address} is already registered as a sender.",
            code="sender_address_taken",
        ) from None
    return sender


def sender_create(*, workspace: Workspace, data: dict) -> Sender:
    return _save(Sender(workspace=workspace, **data))


def sender_address(*, sender: Sender | None, channel: str) -> tuple[str, str]:
    """(address, messaging service SID) to send from: the sender's, else the
    deployment's shared default (TWILIO_FROM_NUMBER / DEFAULT_FROM_EMAIL)."""
    if sender is not None:
        return sender.address, sender.messaging_service_sid
    if channel == Channel.SMS:
        return settings.TWILIO_FROM_NUMBER, ""
    return settings.DEFAULT_FROM_EMAIL, ""


def sender_update(*, sender: Sender, data: dict) -> Sender:
    update_fields(sender, data)
    return _save(sender)


_DEFAULTS: dict[tuple, tuple[float, Sender | None]] = {}
DEFAULT_SENDER_TTL = 5.0  # seconds a worker reuses the lookup; a change applies after it


def default_sender(workspace_id: object, channel: str) -> Sender | None:
    """The workspace's default sender for a channel, cached briefly per process: a
    campaign sends thousands of messages through the same one."""
    key = (workspace_id, channel)
    now = time.monotonic()
    cached = _DEFAULTS.get(key)
    if cached and now - cached[0] < DEFAULT_SENDER_TTL:
        return cached[1]
    sender = Sender.objects.filter(
        workspace_id=workspace_id, channel=channel, is_default=True
    ).first()
    _DEFAULTS[key] = (now, sender)
    return sender
