"""OpenAPI examples of the campaign endpoints."""

from drf_spectacular.utils import OpenApiExample

from core.openapi import error_example

COUNTS = {
    "total": 10000,
    "pending": 0,
    "draft": 0,
    "scheduled": 4120,
    "sent": 3500,
    "delivered": 2003,
    "failed": 12,
    "canceled": 0,
    "skipped": {
        "total": 365,
        "optedOut": 3,
        "duplicate": 355,
        "invalidAddress": 7,
        "invalidData": 0,
    },
}
CAMPAIGN = {
    "_id": "0193f6a2-6666-7b4a-9c2d-3e4f5a6b7c8d",
    "workspaceId": "0193f6a2-1111-7b4a-9c2d-3e4f5a6b7c8d",
    "name": "March reminders",
    "flowId": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d",
    "status": "running",
    "statusReason": "",
    "autopilot": True,
    "sendAt": "2025-03-01T15:00:00Z",
    "source": "csv",
    "counts": COUNTS,
    "startedAt": "2025-03-01T15:00:01Z",
    "pausedAt": None,
    "completedAt": None,
    "canceledAt": None,
    "createdAt": "2025-03-01T14:58:00Z",
    "updatedAt": "2025-03-01T15:00:01Z",
}
CREATED = {
    **CAMPAIGN,
    "status": "scheduled",
    "startedAt": None,
    "source": "json",
    "counts": {
        **{key: 0 for key in COUNTS},
        "total": 2,
        "pending": 2,
        "skipped": {key: 0 for key in COUNTS["skipped"]},
    },
}
CREATE_JSON = {
    "name": "March reminders",
    "flowId": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d",
    "autopilot": True,
    "sendAt": "2025-03-01T15:00:00Z",
    "recipients": [
        {
            "to": "+14155550123",
            "metadata": {"customerDetails": {"name": "Sam"}},
            "dynamic": {"when": "Monday at 3 PM"},
        },
        {
            "to": "+13125550188",
            "metadata": {"customerDetails": {"name": "Ana", "timezone": "America/Chicago"}},
            "dynamic": {"when": "Tuesday at 9 AM"},
        },
    ],
}
CREATE_CSV = {
    "name": "March reminders",
    "flowId": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d",
    "autopilot": "true",
    "file": "to,name,dynamic.when\n+14155550123,Sam,Monday at 3 PM\n+13125550188,Ana,Tuesday\n",
}
INACTIVE_FLOW = error_example(
    "Flow not active",
    400,
    "Message flow 0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d is not active; activate it to send.",
    "flow_inactive",
)
BAD_CSV = error_example(
    "CSV without a to column",
    400,
    "The header row must name a 'to' column.",
    "validation_error",
    errors={"file": ["The header row must name a 'to' column."]},
)
TOO_LARGE = error_example(
    "Upload too large",
    413,
    "The request body is larger than 16777216 bytes.",
    "payload_too_large",
)
CREATE_EXAMPLES = [
    OpenApiExample(
        "Recipients as JSON", value=CREATE_JSON, request_only=True, media_type="application/json"
    ),
    OpenApiExample(
        "Recipients as a CSV upload",
        value=CREATE_CSV,
        request_only=True,
        media_type="multipart/form-data",
    ),
    OpenApiExample("Campaign", value=CREATED, response_only=True, status_codes=["201"]),
    INACTIVE_FLOW,
    BAD_CSV,
    TOO_LARGE,
]
CAMPAIGN_EXAMPLES = [OpenApiExample("Campaign", value=CAMPAIGN, response_only=True)]
FINISHED = error_example(
    "Campaign finished", 409, "The campaign is completed; it cannot be paused.", "conflict"
)


def action_examples(status: str) -> list[OpenApiExample]:
    return [
        OpenApiExample(
            f"Campaign {status}",
            value={**CAMPAIGN, "status": status},
            response_only=True,
            status_codes=["200"],
        ),
        FINISHED,
    ]


RECIPIENTS = [
    {
        "row": 1,
        "to": "+14155550123",
        "name": "Sam",
        "outcome": "delivered",
        "skipReason": "",
        "error": "",
        "conversationId": "0193f6a2-7777-7b4a-9c2d-3e4f5a6b7c8d",
        "messageId": "0193f6a2-8888-7b4a-9c2d-3e4f5a6b7c8d",
        "sendAt": "2025-03-01T15:00:00Z",
        "sentAt": "2025-03-01T15:00:02Z",
    },
    {
        "row": 2,
        "to": "+1 415 555 0123",
        "name": "Sam",
        "outcome": "skipped",
        "skipReason": "duplicate",
        "error": "Row 1 has the same address.",
        "conversationId": None,
        "messageId": None,
        "sendAt": None,
        "sentAt": None,
    },
]
RECIPIENT_EXAMPLES = [
    OpenApiExample(name, value=value, response_only=True, status_codes=["200"])
    for name, value in (("Delivered", RECIPIENTS[0]), ("Skipped duplicate", RECIPIENTS[1]))
]
