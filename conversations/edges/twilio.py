"""Twilio's callbacks: an inbound SMS becomes a customer's message, a status callback
moves a sent message's status. Not API-key authenticated: Twilio proves itself with
X-Twilio-Signature over the public URL and the form (channels.twilio_inbound), else 403
and nothing done."""

import logging

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from channels.models import Channel
from channels.twilio_inbound import (
    EMPTY_TWIML,
    TwilioInboundSms,
    TwilioStatus,
    twilio_request_valid,
)
from conversations.delivery import message_status_update
from conversations.inbound import inbound_receive, route_sms
from core.errors import NotFound

logger = logging.getLogger(__name__)


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
        route = route_sms(data["To"], data["From"])
        if route is None and data["To"] == settings.TWILIO_FROM_NUMBER:
            # Twilio did deliver it to our number: answer 200 (no retries), store nothing.
            logger.warning(
                "Inbound SMS %s to the shared number from %s: no workspace wrote to them "
                "from it; nothing stored",
                data["MessageSid"],
                data["From"],
            )
            return HttpResponse(EMPTY_TWIML, content_type="text/xml")
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
            message_id=request.query_params.get("message", ""),
        )
        return HttpResponse(status=204)
