"""Provider callbacks. Not API-key authenticated: each proves itself the provider's way
(Twilio's X-Twilio-Signature over the public URL and the form), else 403, nothing done."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from channels import email as email_channel
from channels import sms
from config.errors import error_body
from conversations.delivery import message_status_update, messages_cancel_pending
from conversations.events import event_record
from conversations.models import Contact

logger = logging.getLogger(__name__)


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: ours as the world sees it (behind proxies), not the
    internal one Django sees."""
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def twilio_request_valid(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    params = {key: request.POST.get(key) for key in request.POST}
    return bool(signature) and sms.twilio_signature_valid(public_url(request), params, signature)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's StatusCallback: moves the message's status forward only."""
    if not twilio_request_valid(request):
        logger.warning("Twilio status callback with a bad signature refused")
        return JsonResponse(error_body("Invalid Twilio signature.", "forbidden"), status=403)
    message_status_update(
        provider_message_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", "").lower(),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


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


def contact_opt_out(*, contact: Contact, reason: str) -> None:
    updated = Contact.objects.filter(pk=contact.pk, opted_out_at__isnull=True).update(
        opted_out_at=timezone.now()
    )
    if updated:
        event_record(
            workspace_id=contact.workspace_id,
            type="contact.opted_out",
            data={"contact_id": str(contact.pk), "channel": contact.channel, "reason": reason},
        )
        messages_cancel_pending(contact=contact, reason=f"Contact opted out ({reason}).")
