"""OpenAPI examples of the conversation and message endpoints (seeds 000, 001, 002)."""

from drf_spectacular.utils import OpenApiExample

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
