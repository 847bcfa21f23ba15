"""OpenAPI examples of the agent endpoints."""

from drf_spectacular.utils import OpenApiExample

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
