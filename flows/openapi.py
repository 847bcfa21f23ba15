"""OpenAPI examples of the message-flow endpoints (seed 003)."""

from drf_spectacular.utils import OpenApiExample

# Seed 003, word for word: the response of its example, and the request as its
# parameter table gives it — the same flow with working hours flat in responseSettings,
# without the fields the service sets.
SEED_003_RESPONSE = {
    "_id": "messageFlowId",
    "workspaceId": "workspaceIdExample",
    "name": "Customer Engagement Campaign",
    "direction": "bidirectional",
    "description": "Manages interactions for promotional events via SMS",
    "agent": "agentUniqueId",
    "settings": {
        "responseSettings": {
            "delay": 0,
            "workingHours": {
                "enabled": False,
                "start": "09:00",
                "end": "17:00",
                "timezone": "UTC",
                "outOfHoursMessage": "",
            },
        },
        "security": {"hipaaCompliance": False},
        "emailSettings": {
            "subjectLine": "Thank You for Joining Our Event",
            "signature": "Best Regards",
        },
    },
    "prompt": "You are a supportive assistant managing event inquiries.",
    "initiationMessage": "Welcome to our service! How can we assist you today?",
    "isActive": True,
    "autopilot": True,
    "messageChannel": "SMS",
    "createdAt": "2025-01-02T10:15:00Z",
    "updatedAt": "2025-01-02T10:15:00Z",
}

_RESPONSE_SETTINGS = SEED_003_RESPONSE["settings"]["responseSettings"]
SEED_003_REQUEST = {
    **{
        key: value
        for key, value in SEED_003_RESPONSE.items()
        if key not in ("_id", "workspaceId", "createdAt", "updatedAt")
    },
    "settings": {
        **SEED_003_RESPONSE["settings"],
        "responseSettings": {
            "delay": _RESPONSE_SETTINGS["delay"],
            **_RESPONSE_SETTINGS["workingHours"],
        },
    },
}

FLOW_EXAMPLES = [
    OpenApiExample("Seed 003 request", value=SEED_003_REQUEST, request_only=True),
    OpenApiExample(
        "Seed 003 response", value=SEED_003_RESPONSE, response_only=True, status_codes=["201"]
    ),
    OpenApiExample(
        "Validation error",
        value={
            "status": "error",
            "message": "Field 'prompt' is required.",
            "code": "validation_error",
            "data": None,
            "errors": {"prompt": ["This field is required."]},
        },
        response_only=True,
        status_codes=["400"],
    ),
]
