"""Customers answering by email, and unsubscribing from it. anymail's `inbound` signal
brings a mail its view has authenticated (channels.email_inbound); the receiver finds
the conversation and hands the customer's new text to inbound_receive. The unsubscribe
page honours the signed link every email carries."""

import logging

from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent
from anymail.utils import get_anymail_setting
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels import email as email_channel
from channels.email import conversation_id_from_reply_address
from channels.email_inbound import addr, recipients, reply_text
from channels.models import Channel, Sender
from conversations.inbound import contact_opt_out, inbound_flow, inbound_receive
from conversations.models import Contact, Conversation

logger = logging.getLogger(__name__)


def email_received(
    sender: object, event: AnymailInboundEvent, esp_name: str, **kwargs: object
) -> None:
    """anymail's `inbound` signal. Mail that cannot be routed is logged and dropped:
    the view still answers 200, so the provider does not retry it forever."""
    if not settings.DEBUG and not get_anymail_setting("webhook_secret", default=None):
        # Without a secret anymail lets anyone post (it only warns): refuse to act on it.
        logger.error("Inbound email from %s ignored: ANYMAIL_WEBHOOK_SECRET is not set", esp_name)
        return
    message: AnymailInboundMessage = event.message
    try:
        read = _read(message, event)
    except Exception:  # a provider's malformed fields fail in anymail and the stdlib alike
        logger.warning("Inbound email via %s that cannot be read: ignored", esp_name, exc_info=True)
        return
    from_address, message_id, to_addresses, text = read
    if not from_address or not message_id:
        logger.warning("Inbound email via %s without From or Message-ID ignored", esp_name)
        return

    conversation = _by_reply_address(to_addresses)
    if conversation is not None:
        # The signed address names the conversation; its contact is the customer even
        # when they answer from another alias.
        contact = conversation.contact
        inbound_receive(
            workspace_id=conversation.workspace_id,
            flow=conversation.flow,
            channel=Channel.EMAIL,
            from_address=contact.address if contact else from_address,
            text=text,
            provider_message_id=message_id,
            conversation=conversation,
        )
        return

    for our_sender in Sender.objects.filter(channel=Channel.EMAIL, address__in=to_addresses):
        contact = Contact.objects.filter(
            workspace_id=our_sender.workspace_id, channel=Channel.EMAIL, address=from_address
        ).first()
        if contact is not None:
            inbound_receive(
                workspace_id=our_sender.workspace_id,
                flow=inbound_flow(our_sender),
                channel=Channel.EMAIL,
                from_address=contact.address,
                text=text,
                provider_message_id=message_id,
            )
            return
    logger.warning(
        "Inbound email via %s from %s to %s: no conversation, sender or contact matches",
        esp_name,
        from_address,
        ", ".join(sorted(to_addresses)),
    )


def _read(message: AnymailInboundMessage, event: AnymailInboundEvent) -> tuple:
    """(from, message id, recipients, the customer's new text), as text PostgreSQL can
    store (no U+0000)."""

    def clean(value: object) -> str:
        return value.replace("\x00", "") if isinstance(value, str) else ""

    from_address = clean(addr(message.from_email))
    # The RFC Message-ID is the same on every retry; the provider's own id is the fallback.
    message_id = clean(message["Message-ID"] or event.event_id or "").strip()[:255]
    to_addresses = {clean(address) for address in recipients(message)} - {""}
    return from_address, message_id, to_addresses, clean(reply_text(message))


def _by_reply_address(addresses: set[str]) -> Conversation | None:
    for address in addresses:
        conversation_id = conversation_id_from_reply_address(address)
        if conversation_id is not None:
            found = (
                Conversation.objects.select_related("contact", "flow")
                .filter(pk=conversation_id)
                .first()
            )
            if found is not None:
                return found
    return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation page; POST (the page's button, or a mail client's
    RFC 8058 one-click request) opts the contact out of the workspace's email."""
    verified = email_channel.unsubscribe_verify(token)
    contact = None
    if verified:
        contact_id, workspace_id = verified
        contact = Contact.objects.filter(pk=contact_id, workspace_id=workspace_id).first()
    if contact is None:
        return render(request, "unsubscribe.html", {"state": "invalid"}, status=404)
    if request.method == "GET":
        return render(request, "unsubscribe.html", {"state": "confirm", "contact": contact})
    contact_opt_out(contact=contact, reason="email unsubscribe link")
    return render(request, "unsubscribe.html", {"state": "done", "contact": contact})
