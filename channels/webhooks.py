"""Provider callbacks. Not API-key authenticated: each proves itself the provider's way
(Twilio's X-Twilio-Signature over the public URL and the form), else 403, nothing done."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions, serializers
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from channels import email as email_channel
from channels import sms
from channels.inbound import contact_opt_out, inbound_receive, route_sms
from config.errors import NotFound
from conversations.delivery import message_status_update
from conversations.models import Contact
from flows.models import Channel

logger = logging.getLogger(__name__)


def public_url(request: HttpRequest) -> str:
    """The URL Twilio signed: ours as the world sees it (behind proxies), not the
    internal one Django sees."""
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def twilio_request_valid(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    params = {key: request.POST.get(key) for key in request.POST}
    return bool(signature) and sms.twilio_signature_valid(public_url(request), params, signature)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioInboundSms(serializers.Serializer):
    MessageSid = serializers.CharField()
    From = serializers.CharField()
    To = serializers.CharField()
    Body = serializers.CharField(allow_blank=True)


class TwilioStatus(serializers.Serializer):
    MessageSid = serializers.CharField()
    MessageStatus = serializers.CharField()
    ErrorCode = serializers.CharField(required=False)


class TwilioWebhookView(APIView):
    """Twilio proves itself with X-Twilio-Signature, not an API key."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes = [FormParser]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        if not twilio_request_valid(request._request):
            logger.warning("Twilio webhook with a bad signature refused: %s", request.path)
            raise exceptions.PermissionDenied("Invalid Twilio signature.")


@extend_schema_view(
    post=extend_schema(
        summary="Inbound SMS (Twilio webhook)",
        description=(
            "Signed by Twilio (X-Twilio-Signature over PUBLIC_BASE_URL + path). Stores the "
            "message and answers empty TwiML at once; replies are sent later."
        ),
        tags=["Provider webhooks"],
        auth=[],
        request={"application/x-www-form-urlencoded": TwilioInboundSms},
        responses={(200, "text/xml"): OpenApiTypes.STR},
        examples=[
            OpenApiExample(
                "Inbound SMS",
                value={
                    "MessageSid": "SM" + "0" * 32,
                    "From": "+14155550123",
                    "To": "+14155550100",
                    "Body": "Can I move my appointment?",
                },
                request_only=True,
            )
        ],
    )
)
class TwilioSmsView(TwilioWebhookView):
    """An SMS from a customer. Stored, answered with empty TwiML at once; any reply is
    decided here and sent later by the workers, never inside this request."""

    def post(self, request: Request) -> HttpResponse:
        form = TwilioInboundSms(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        route = route_sms(data["To"])
        if route is None:
            logger.warning("Inbound SMS to %s: no sender has this number", data["To"])
            raise NotFound(f"No sender is registered for {data['To']}.")
        inbound_receive(
            workspace_id=route.workspace_id,
            flow=route.flow,
            channel=Channel.SMS,
            from_address=data["From"],
            text=data["Body"],
            provider_message_id=data["MessageSid"],
        )
        return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@extend_schema_view(
    post=extend_schema(
        summary="SMS status callback (Twilio webhook)",
        description="Signed by Twilio. Moves the message's status forward only.",
        tags=["Provider webhooks"],
        auth=[],
        request={"application/x-www-form-urlencoded": TwilioStatus},
        responses={204: None},
        examples=[
            OpenApiExample(
                "Delivered",
                value={"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"},
                request_only=True,
            )
        ],
    )
)
class TwilioStatusView(TwilioWebhookView):
    def post(self, request: Request) -> HttpResponse:
        form = TwilioStatus(data=request.data)
        form.is_valid(raise_exception=True)
        message_status_update(
            provider_message_id=form.validated_data["MessageSid"],
            status=form.validated_data["MessageStatus"].lower(),
            error_code=form.validated_data.get("ErrorCode", ""),
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
