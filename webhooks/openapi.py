"""OpenAPI examples of the webhook endpoints and their deliveries."""

from drf_spectacular.utils import OpenApiExample

from core.openapi import error_example

ENDPOINT = {
    "_id": "0193f6a2-4444-7b4a-9c2d-3e4f5a6b7c8d",
    "url": "https://example.com/hooks/messaging",
    "eventTypes": [],
    "enabled": True,
    "description": "CRM sync",
    "disabledReason": "",
    "lastSuccessAt": "2025-01-02T10:16:00Z",
    "failingSince": None,
    "createdAt": "2025-01-02T10:15:00Z",
    "updatedAt": "2025-01-02T10:15:00Z",
}
ENDPOINT_WITH_SECRET = {**ENDPOINT, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
ENDPOINT_CREATE = {"url": "https://example.com/hooks/messaging", "description": "CRM sync"}
ENDPOINT_UPDATE = {"eventTypes": ["message.created", "reply.generated"], "enabled": True}
ENDPOINT_CREATE_EXAMPLES = [
    OpenApiExample("Every event", value=ENDPOINT_CREATE, request_only=True),
    OpenApiExample(
        "Messages only",
        value={"url": "https://example.com/hooks/messages", **ENDPOINT_UPDATE},
        request_only=True,
    ),
    OpenApiExample(
        "Endpoint with its secret",
        value=ENDPOINT_WITH_SECRET,
        response_only=True,
        status_codes=["201"],
    ),
]
ROTATED = [
    OpenApiExample(
        "Endpoint with its new secret",
        value={**ENDPOINT_WITH_SECRET, "secret": "whsec_Qm9vZ2xlIGl0IGlmIHlvdSB3YW50LCBvaw"},
        response_only=True,
        status_codes=["200"],
    )
]

DELIVERY = {
    "_id": "0193f6a2-5555-7b4a-9c2d-3e4f5a6b7c8d",
    "eventType": "message.created",
    "sequence": 42,
    "status": "succeeded",
    "attempts": 2,
    "nextAttemptAt": None,
    "deliveredAt": "2025-01-02T10:16:05Z",
    "createdAt": "2025-01-02T10:16:00Z",
    "attemptLog": [
        {
            "startedAt": "2025-01-02T10:16:05Z",
            "statusCode": 200,
            "latencyMs": 84,
            "responseBody": "ok",
            "error": "",
        },
        {
            "startedAt": "2025-01-02T10:16:00Z",
            "statusCode": None,
            "latencyMs": 5000,
            "responseBody": "",
            "error": "Timed out after 5 s.",
        },
    ],
}
DELIVERY_LIST = [
    OpenApiExample("Deliveries", value=DELIVERY, response_only=True, status_codes=["200"])
]
DELIVERY_RETRY = [
    OpenApiExample(
        "Retrying",
        value={**DELIVERY, "status": "pending", "nextAttemptAt": "2025-01-02T10:20:00Z"},
        response_only=True,
        status_codes=["202"],
    ),
    error_example(
        "Endpoint disabled", 409, "The endpoint is disabled; enable it first.", "webhook_disabled"
    ),
    error_example(
        "Being attempted",
        409,
        "The delivery is being attempted right now.",
        "webhook_in_flight",
    ),
]
