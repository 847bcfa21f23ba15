import time
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction

from channels import sms
from channels.errors import TransportError
from channels.models import Channel, Sender
from core.errors import ApplicationError, Conflict
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
    sender = Sender(workspace=workspace, **data)
    sender_ensure_owned(sender=sender)
    return _save(sender)


def sender_ensure_owned(*, sender: Sender) -> None:
    """A sender is owned, not claimed. Inbound traffic is routed by the address it was
    sent to, so registering an address means receiving its replies: an SMS number or
    Messaging Service must be the service's Twilio account's (with no account, the
    console set-up, anything goes), never the shared default number; an email address
    must be on a domain the deployment lists (EMAIL_SENDER_DOMAINS; empty: any) and not
    the shared DEFAULT_FROM_EMAIL."""
    if sender.channel == Channel.SMS:
        if sender.address == settings.TWILIO_FROM_NUMBER:
            _not_owned(f"{sender.address} is the service's shared number; it cannot be a sender.")
        try:
            owned = sms.get_sms_backend().owns(
                number=sender.address, messaging_service_sid=sender.messaging_service_sid
            )
        except TransportError as exc:
            raise ApplicationError(
                f"Could not ask Twilio whether the account owns {sender.address}: {exc.message}",
                code="provider_unavailable",
                status_code=503,
            ) from exc
        if not owned:
            _not_owned(
                f"The service's Twilio account does not own {sender.address}"
                + (f" or {sender.messaging_service_sid}" if sender.messaging_service_sid else "")
                + "."
            )
        return
    shared = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()
    domain = sender.address.rpartition("@")[2].lower()
    allowed = [d.lower() for d in settings.EMAIL_SENDER_DOMAINS]
    if sender.address == shared:
        _not_owned(f"{sender.address} is the service's shared address; it cannot be a sender.")
    if allowed and domain not in allowed:
        _not_owned(f"Email senders must be on one of these domains: {', '.join(allowed)}.")


def _not_owned(message: str) -> None:
    raise ApplicationError(message, code="sender_not_owned", errors={"address": [message]})


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
    if {"address", "channel", "messaging_service_sid"} & set(data):
        sender_ensure_owned(sender=sender)
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
