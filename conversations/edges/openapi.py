"""OpenAPI of the provider edges and the unsubscribe page.

The Twilio views are DRF views, documented where they live; this adds what their
documentation lacks (the signature header, the answers' examples, the errors) through
drf-spectacular's view extensions. Inbound email (anymail's view) and the unsubscribe
page are plain Django views the generator cannot see: the documentation-only views
here describe them, and config.openapi puts each at the path of the view it documents.
"""

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from channels.twilio_inbound import EMPTY_TWIML
from core.openapi import PlainViewSchema, error_example, error_responses

TAGS = ["Provider webhooks"]
TWILIO_SIGNATURE = OpenApiParameter(
    "X-Twilio-Signature",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Twilio's HMAC-SHA1 of PUBLIC_BASE_URL + path and the form; 403 otherwise.",
)
BAD_SIGNATURE = error_example("Bad signature", 403, "Invalid Twilio signature.", "forbidden")


class TwilioSmsViewSchema(OpenApiViewExtension):
    target_class = "conversations.edges.twilio.TwilioSmsView"

    def view_replacement(self) -> type:
        @extend_schema_view(
            post=extend_schema(
                parameters=[TWILIO_SIGNATURE],
                responses={
                    (200, "text/xml"): OpenApiResponse(
                        OpenApiTypes.STR,
                        description="Empty TwiML: any reply is sent later.",
                        examples=[OpenApiExample("Empty TwiML", value=EMPTY_TWIML)],
                    ),
                    **error_responses(400, 403, 404),
                },
                examples=[
                    BAD_SIGNATURE,
                    error_example(
                        "Unknown number",
                        404,
                        "No sender is registered for +14155550100.",
                        "not_found",
                    ),
                ],
            )
        )
        class Documented(self.target_class):
            pass

        return Documented


class TwilioStatusViewSchema(OpenApiViewExtension):
    target_class = "conversations.edges.twilio.TwilioStatusView"

    def view_replacement(self) -> type:
        @extend_schema_view(
            post=extend_schema(
                parameters=[
                    TWILIO_SIGNATURE,
                    OpenApiParameter(
                        "message",
                        OpenApiTypes.UUID,
                        description="The message's id, put in the callback URL when sent.",
                    ),
                ],
                responses={204: None, **error_responses(400, 403)},
                examples=[BAD_SIGNATURE],
            )
        )
        class Documented(self.target_class):
            pass

        return Documented


# --- Inbound email (anymail's Postmark view, channels.email_inbound) -------------------


class _PostmarkAddress(serializers.Serializer):
    Email = serializers.EmailField()
    Name = serializers.CharField(required=False, allow_blank=True)


class _PostmarkHeader(serializers.Serializer):
    Name = serializers.CharField()
    Value = serializers.CharField(allow_blank=True)


class PostmarkInboundEmail(serializers.Serializer):
    """Postmark's inbound webhook JSON (the fields the service reads; Postmark sends
    more, which are ignored)."""

    FromFull = _PostmarkAddress()
    ToFull = _PostmarkAddress(many=True)
    CcFull = _PostmarkAddress(many=True, required=False)
    BccFull = _PostmarkAddress(many=True, required=False)
    OriginalRecipient = serializers.EmailField(required=False)
    Subject = serializers.CharField(required=False, allow_blank=True)
    MessageID = serializers.CharField(required=False)
    Date = serializers.CharField(required=False)
    TextBody = serializers.CharField(required=False, allow_blank=True)
    HtmlBody = serializers.CharField(required=False, allow_blank=True)
    StrippedTextReply = serializers.CharField(required=False, allow_blank=True)
    Headers = _PostmarkHeader(many=True, required=False)


class PostmarkInboundSchema(PlainViewSchema):
    @extend_schema(
        summary="Inbound email (Postmark webhook)",
        description=(
            "Postmark's inbound webhook, authenticated with HTTP basic auth "
            "(`ANYMAIL_WEBHOOK_SECRET` as user:password in the URL). The customer's new "
            "text (quoted history and signature stripped) joins the conversation its "
            "Reply-To routing address names, else the sender's contact's conversation. "
            "Mail that routes nowhere is logged and answered 200, so Postmark does not "
            "retry it."
        ),
        tags=TAGS,
        auth=[{"WebhookBasicAuth": []}],
        request=PostmarkInboundEmail,
        responses={
            200: OpenApiResponse(description="Received (or ignored)."),
            **error_responses(400, 413),
        },
        examples=[
            OpenApiExample(
                "A reply",
                value={
                    "FromFull": {"Email": "sam@example.com", "Name": "Sam"},
                    "ToFull": [{"Email": "reply+abc123@mail.example.com", "Name": ""}],
                    "OriginalRecipient": "reply+abc123@mail.example.com",
                    "Subject": "Re: Your appointment",
                    "MessageID": "0c2a6e7e-7d3b-4b8f-a1a5-6f1f1e7c1c2d",
                    "TextBody": "Thursday works.\n\nOn Mon, Clinic wrote:\n> Would Thursday suit?",
                    "Headers": [{"Name": "Message-ID", "Value": "<CAF=abc@mail.example.com>"}],
                },
                request_only=True,
            ),
            error_example(
                "Missing basic auth", 400, "Missing or invalid basic auth.", "bad_request"
            ),
            error_example(
                "Too large",
                413,
                "The request body is larger than 1048576 bytes.",
                "payload_too_large",
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        raise NotImplementedError


# --- Unsubscribe (conversations.edges.email.email_unsubscribe) -------------------------

_PAGE = '<!doctype html><html lang="en">…<h1>{}</h1>…</html>'


class UnsubscribeSchema(PlainViewSchema):
    token_parameter = OpenApiParameter(
        "token",
        str,
        OpenApiParameter.PATH,
        description="The signed token of the email's List-Unsubscribe link.",
        pattern=r"^[A-Za-z0-9_:-]+$",
    )
    invalid = OpenApiResponse(
        OpenApiTypes.STR,
        description="The link is not valid (an HTML page).",
        examples=[OpenApiExample("Link not valid", value=_PAGE.format("Link not valid"))],
    )

    @extend_schema(
        summary="Unsubscribe page",
        description="An HTML page asking to confirm; its button POSTs to the same URL.",
        tags=["Unsubscribe"],
        parameters=[token_parameter],
        responses={
            (200, "text/html"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The confirmation page.",
                examples=[OpenApiExample("Confirm", value=_PAGE.format("Unsubscribe"))],
            ),
            (404, "text/html"): invalid,
        },
    )
    def get(self, request: Request, token: str) -> Response:
        raise NotImplementedError

    @extend_schema(
        summary="Unsubscribe",
        description=(
            "The page's button, or a mail client's RFC 8058 one-click POST "
            "(`List-Unsubscribe=One-Click`): opts the contact out of the workspace's "
            "email and cancels its pending messages."
        ),
        tags=["Unsubscribe"],
        parameters=[token_parameter],
        request={
            "application/x-www-form-urlencoded": {
                "type": "object",
                "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}},
            }
        },
        examples=[
            OpenApiExample(
                "One-click (RFC 8058)", value={"List-Unsubscribe": "One-Click"}, request_only=True
            )
        ],
        responses={
            (200, "text/html"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Done (an HTML page).",
                examples=[
                    OpenApiExample("Unsubscribed", value=_PAGE.format("You are unsubscribed"))
                ],
            ),
            (404, "text/html"): invalid,
        },
    )
    def post(self, request: Request, token: str) -> Response:
        raise NotImplementedError
