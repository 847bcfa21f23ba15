"""OpenAPI examples of the agent endpoints."""

AGENT_CREATE = {
    "name": "Event concierge",
    "instructions": "Be brief and friendly. Never promise discounts.",
    "model": "claude-sonnet-5-5",
    "temperature": 0.5,
    "maxTokens": 512,
}
AGENT = {
    "_id": "0193f6a2-7c1e-7b4a-9c2d-3e4f5a6b7c8d",
    "workspaceId": "0193f6a2-1111-7b4a-9c2d-3e4f5a6b7c8d",
    **AGENT_CREATE,
    "createdAt": "2025-01-02T10:15:00Z",
    "updatedAt": "2025-01-02T10:15:00Z",
}
AGENT_UPDATE = {"instructions": "Be brief. Offer the next free slot when asked to move."}
