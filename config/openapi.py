"""OpenAPI: the security schemes, the x-workspace-id header and the seeds' examples."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter

WORKSPACE_HEADER_PARAMETER = OpenApiParameter(
    name="x-workspace-id",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="Workspace identifier for the API; must be the API key's workspace.",
)

ERROR_EXAMPLE = {"status": "error", "message": "...", "code": "...", "data": None}


class AutoSchema(SpectacularAutoSchema):
    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        if self.path.startswith("/v1/api/"):
            params.append(WORKSPACE_HEADER_PARAMETER)
        return params


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "workspaces.auth.ApiKeyAuthentication"
    name = ["BearerAuth", "ApiKeyHeader"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict]:
        return [
            {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        ]

    def get_security_requirement(self, auto_schema: AutoSchema) -> list[dict]:
        # Either header authenticates; a list of requirements means "any one of".
        return [{"BearerAuth": []}, {"ApiKeyHeader": []}]


# Seed 003, word for word: the request as its parameter table gives it (working hours
# flat in responseSettings) and the response of its example.
SEED_003_REQUEST = {
    "name": "Customer Engagement Campaign",
    "direction": "bidirectional",
    "description": "Manages interactions for promotional events via SMS",
    "agent": "agentUniqueId",
    "settings": {
        "responseSettings": {
            "delay": 0,
            "enabled": False,
            "start": "09:00",
            "end": "17:00",
            "timezone": "UTC",
            "outOfHoursMessage": "",
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
}

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

AGENT_EXAMPLES = [
    OpenApiExample(
        "Create an agent",
        value={
            "name": "Event concierge",
            "instructions": "Be brief and friendly. Never promise discounts.",
            "model": "claude-sonnet-5-5",
            "temperature": 0.5,
            "maxTokens": 512,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Agent",
        value={
            "_id": "0193f6a2-7c1e-7b4a-9c2d-3e4f5a6b7c8d",
            "workspaceId": "0193f6a2-1111-7b4a-9c2d-3e4f5a6b7c8d",
            "name": "Event concierge",
            "instructions": "Be brief and friendly. Never promise discounts.",
            "model": "claude-sonnet-5-5",
            "temperature": 0.5,
            "maxTokens": 512,
            "createdAt": "2025-01-02T10:15:00Z",
            "updatedAt": "2025-01-02T10:15:00Z",
        },
        response_only=True,
        status_codes=["201"],
    ),
]

# Seed 001's example request and response.
SEED_001_EXAMPLES = [
    OpenApiExample(
        "Seed 001 request",
        value={
            "conversation_id": "con_9s2kd81",
            "sender_id": "usr_82hd92",
            "sender_type": "user",
            "text": "Can you summarize my last 5 calls?",
            "metadata": {"channel": "web", "locale": "en-US"},
            "auto_reply": True,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Seed 001 response",
        value={
            "status": "success",
            "message": "Message sent successfully.",
            "data": {
                "conversation_id": "con_9s2kd81",
                "message": {
                    "id": "msg_45kd01",
                    "sender_id": "usr_82hd92",
                    "sender_type": "user",
                    "text": "Can you summarize my last 5 calls?",
                    "metadata": {"channel": "web", "locale": "en-US"},
                    "created_at": "2026-03-15T14:22:11Z",
                },
                "auto_reply_enqueued": True,
            },
        },
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Seed 001 missing text",
        value={"status": "error", "message": "Field 'text' is required.", "data": None},
        response_only=True,
        status_codes=["400"],
    ),
]

SEED_002_EXAMPLES = [
    OpenApiExample(
        "User message, generate the reply",
        value={
            "role": "user",
            "content": "Hi, can I move my appointment?",
            "action": "generate-reply",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Agent speaks first",
        value={
            "role": "control",
            "content": "Greet the customer and ask how you can help.",
            "action": "generate-reply",
            "stateAfter": {"phase": "greeting"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Change state only",
        value={"role": "control", "stateAfter": {"phase": "closing", "context": {"vip": True}}},
        request_only=True,
    ),
]

SEED_000_EXAMPLES = [
    OpenApiExample(
        "Seed 000 request",
        value={
            "flowId": "messageFlowId",
            "to": "+1234567890",
            "metadata": {"customerDetails": {"name": "Sam"}},
            "autopilot": True,
            "dynamic": {"appointment_time": "tomorrow at 3 PM"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Seed 000 response",
        value={
            "status": "success",
            "conversation_id": "63e63b2a-8b6d-4ea4-ae84-abc123",
            "message_id": "56f3459b-c23d-46a4-8a2d-bcd456",
            "message": "Your appointment is confirmed for tomorrow at 3 PM.",
            "delivery_status": "scheduled",
            "send_at": "2026-03-15T14:22:11Z",
        },
        response_only=True,
        status_codes=["201"],
    ),
]
