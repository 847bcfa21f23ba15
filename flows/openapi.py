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

# The answer as it is today: the seed's fields plus the flow's sender and the
# placeholders its initiation message uses.
FLOW = {**SEED_003_RESPONSE, "_id": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d", "sender": None}
FLOW["placeholders"] = []
FLOW_UPDATE = {"isActive": False, "settings": {"responseSettings": {"delay": 30}}}

WORKSPACE = {
    "_id": "0193f6a2-1111-7b4a-9c2d-3e4f5a6b7c8d",
    "name": "Sunrise Dental",
    "defaultFlow": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d",
    "helpText": "Sunrise Dental: call (415) 555-0100. Reply STOP to unsubscribe.",
    "createdAt": "2025-01-02T10:15:00Z",
    "updatedAt": "2025-01-03T08:00:00Z",
}
WORKSPACE_EXAMPLE = OpenApiExample(
    "Workspace", value=WORKSPACE, response_only=True, status_codes=["200"]
)
WORKSPACE_UPDATE_EXAMPLES = [
    WORKSPACE_EXAMPLE,
    OpenApiExample(
        "Set the default flow",
        value={"defaultFlow": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d"},
        request_only=True,
    ),
    OpenApiExample("Clear the default flow", value={"defaultFlow": None}, request_only=True),
    OpenApiExample(
        "Rename, and answer HELP",
        value={"name": WORKSPACE["name"], "helpText": WORKSPACE["helpText"]},
        request_only=True,
    ),
    OpenApiExample(
        "Another workspace's flow",
        value={
            "status": "error",
            "message": "Field 'defaultFlow' is invalid: No message flow with id "
            "'0193f6a2-9999-7b4a-9c2d-3e4f5a6b7c8d' in this workspace.",
            "code": "validation_error",
            "data": None,
            "errors": {
                "defaultFlow": [
                    "No message flow with id '0193f6a2-9999-7b4a-9c2d-3e4f5a6b7c8d' "
                    "in this workspace."
                ]
            },
        },
        response_only=True,
        status_codes=["400"],
    ),
]

FLOW_EXAMPLES = [
    OpenApiExample("Request", value=SEED_003_REQUEST, request_only=True),
    OpenApiExample("Response", value=SEED_003_RESPONSE, response_only=True, status_codes=["201"]),
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
