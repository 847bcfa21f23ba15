"""OpenAPI examples of the sender endpoints."""

from drf_spectacular.utils import OpenApiExample

from core.openapi import error_example

SENDER = {
    "_id": "0193f6a2-3333-7b4a-9c2d-3e4f5a6b7c8d",
    "workspaceId": "0193f6a2-1111-7b4a-9c2d-3e4f5a6b7c8d",
    "channel": "SMS",
    "address": "+14155550123",
    "messagingServiceSid": "",
    "isDefault": True,
    "maxPerSecond": 1.0,
    "createdAt": "2025-01-02T10:15:00Z",
    "updatedAt": "2025-01-02T10:15:00Z",
}
SENDER_CREATE = {"channel": "SMS", "address": "+14155550123", "isDefault": True}
SENDER_UPDATE = {"isDefault": True, "maxPerSecond": 3}
ADDRESS_TAKEN = error_example(
    "Address taken",
    409,
    "The address +14155550123 is already registered as a sender.",
    "sender_address_taken",
)
NOT_OWNED = error_example(
    "Not the account's number",
    400,
    "The service's Twilio account does not own +14155550123.",
    "sender_not_owned",
    errors={"address": ["The service's Twilio account does not own +14155550123."]},
)
TWILIO_DOWN = error_example(
    "Twilio did not answer",
    503,
    "Could not ask Twilio whether the account owns +14155550123: timed out.",
    "provider_unavailable",
)
SENDER_CREATE_EXAMPLES = [
    OpenApiExample("SMS sender", value=SENDER_CREATE, request_only=True),
    OpenApiExample(
        "Email sender",
        value={"channel": "Email", "address": "care@clinic.example", "isDefault": True},
        request_only=True,
    ),
    OpenApiExample("Sender", value=SENDER, response_only=True, status_codes=["201"]),
    ADDRESS_TAKEN,
    NOT_OWNED,
    TWILIO_DOWN,
]
