"""OpenAPI examples of the conversation, message and event endpoints. `POST /v1/messages`
(seed 001) and `POST /v1/api/conversations/message/generate` (seed 000) answer their
seeds' snake_case; everything else is camelCase with `_id`."""

from drf_spectacular.utils import OpenApiExample

from core.openapi import error_example

# Seed 001's example request and response.
SEED_001_EXAMPLES = [
    OpenApiExample(
        "Request",
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
        "Response",
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
    # The seed's error examples, with what the API adds to its envelope (code, errors).
    error_example(
        "Missing text",
        400,
        "Field 'text' is required.",
        "validation_error",
        errors={"text": ["This field is required."]},
    ),
    error_example(
        "Conversation not found",
        404,
        "Conversation not found: con_9s2kd81.",
        "not_found",
    ),
    error_example("Server error", 500, "Failed to enqueue message. Please retry.", "store_failed"),
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
        "Request",
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
        "Response",
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
SEED_000_EXAMPLES += [
    error_example(
        "Flow inactive",
        400,
        "Message flow 0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d is not active; activate it to send.",
        "flow_inactive",
    ),
    error_example(
        "Opted out", 400, "The recipient +1234567890 has opted out.", "contact_opted_out"
    ),
    error_example("Flow not found", 404, "Message flow not found: messageFlowId.", "not_found"),
]

# --- The conversations resource -------------------------------------------------------

CONVERSATION_ID = "0193f6a2-6666-7b4a-9c2d-3e4f5a6b7c8d"
CONVERSATION = {
    "_id": CONVERSATION_ID,
    "flowId": "0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d",
    "agentId": "0193f6a2-7c1e-7b4a-9c2d-3e4f5a6b7c8d",
    "contact": {
        "_id": "0193f6a2-7777-7b4a-9c2d-3e4f5a6b7c8d",
        "channel": "SMS",
        "address": "+14155550199",
        "name": "Sam",
        "optedOut": False,
    },
    "channel": "SMS",
    "playbook": "",
    "phase": "greeting",
    "systemMessage": "",
    "context": {"dynamic": {"appointment_time": "tomorrow at 3 PM"}},
    "aiPaused": False,
    "messageCount": 2,
    "replyStatus": "idle",
    "lastReplyError": "",
    "createdAt": "2026-03-15T14:22:11Z",
    "updatedAt": "2026-03-15T14:22:15Z",
}
CONVERSATION_EXAMPLE = OpenApiExample("Conversation", value=CONVERSATION, response_only=True)
CONVERSATION_CREATE_EXAMPLES = [
    OpenApiExample(
        "With a flow",
        value={"flowId": CONVERSATION["flowId"], "phase": "greeting"},
        request_only=True,
    ),
    OpenApiExample(
        "With an agent, no flow",
        value={
            "agentId": CONVERSATION["agentId"],
            "playbook": "Book a cleaning; offer the first free slot.",
            "context": {"customer": "Sam"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Conversation",
        value={**CONVERSATION, "contact": None, "messageCount": 0},
        response_only=True,
        status_codes=["201"],
    ),
    error_example(
        "Flow not found",
        404,
        "Message flow not found: 0193f6a2-2222-7b4a-9c2d-3e4f5a6b7c8d.",
        "not_found",
    ),
]
PAUSED_EXAMPLES = [
    OpenApiExample(
        "Paused", value={**CONVERSATION, "aiPaused": True}, response_only=True, status_codes=["200"]
    )
]
RESUMED_EXAMPLES = [
    OpenApiExample("Resumed", value=CONVERSATION, response_only=True, status_codes=["200"])
]

# --- Messages -------------------------------------------------------------------------

MESSAGE = {
    "_id": "0193f6a2-8888-7b4a-9c2d-3e4f5a6b7c8d",
    "conversationId": CONVERSATION_ID,
    "role": "user",
    "content": "Hi, can I move my appointment?",
    "senderId": "usr_82hd92",
    "senderType": "user",
    "metadata": {},
    "replyToId": None,
    "status": "received",
    "sendAt": None,
    "model": "",
    "usage": None,
    "createdAt": "2026-03-15T14:22:11Z",
}
REPLY = {
    **MESSAGE,
    "_id": "0193f6a2-9999-7b4a-9c2d-3e4f5a6b7c8d",
    "role": "agent",
    "content": "Of course. Would Thursday at 10:00 suit you?",
    "senderId": CONVERSATION["agentId"],
    "senderType": "agent",
    "replyToId": MESSAGE["_id"],
    "status": "scheduled",
    "sendAt": "2026-03-15T14:22:15Z",
    "model": "claude-sonnet-5-5",
    "usage": {"inputTokens": 412, "outputTokens": 18},
    "createdAt": "2026-03-15T14:22:14Z",
}
DRAFT = {**REPLY, "status": "draft", "sendAt": None}
MESSAGE_EXAMPLE = OpenApiExample("Message", value=MESSAGE, response_only=True)
MESSAGE_LIST_EXAMPLES = [
    OpenApiExample("Messages", value=MESSAGE, response_only=True, status_codes=["200"])
]
SEED_002_EXAMPLES += [
    OpenApiExample(
        "Message and the agent's reply",
        value={"message": MESSAGE, "reply": REPLY, "conversation": CONVERSATION},
        response_only=True,
        status_codes=["201"],
    ),
    error_example(
        "No agent",
        400,
        "This conversation has no agent: create it with a flowId or agentId.",
        "no_agent",
    ),
    error_example(
        "Reply in progress",
        409,
        "A reply is being generated in this conversation; retry when it is done.",
        "reply_in_progress",
    ),
    error_example(
        "Model refused",
        500,
        "Reply generation failed: prompt is too long.",
        "reply_failed",
    ),
]
APPROVE_EXAMPLES = [
    OpenApiExample("Scheduled", value=REPLY, response_only=True, status_codes=["200"]),
    error_example(
        "Not a draft",
        409,
        "Only a draft can be sent; this message is sent.",
        "message_not_draft",
    ),
]
CANCEL_EXAMPLES = [
    OpenApiExample(
        "Canceled",
        value={**DRAFT, "status": "canceled"},
        response_only=True,
        status_codes=["200"],
    ),
    error_example(
        "Already left",
        409,
        "The message cannot be canceled: it is sent.",
        "message_already_left",
    ),
]
# GET /v1/messages: drafts awaiting approval and failures, across conversations.
MESSAGES_EXAMPLES = [
    OpenApiExample("Drafts", value=DRAFT, response_only=True, status_codes=["200"]),
    error_example(
        "Unknown status",
        400,
        "Field 'status' is invalid: \"sending-soon\" is not a valid choice.",
        "validation_error",
        errors={"status": ['"sending-soon" is not a valid choice.']},
    ),
    error_example(
        "Malformed id",
        400,
        "Field 'conversation' is invalid: Must be a valid UUID.",
        "validation_error",
        errors={"conversation": ["Must be a valid UUID."]},
    ),
]

# --- Events ---------------------------------------------------------------------------


def _message_in_event(message: dict) -> dict:
    """A message as events carry it (conversations.payloads.message_event)."""
    return {
        "_id": message["_id"],
        "conversationId": message["conversationId"],
        "role": message["role"],
        "senderId": message["senderId"],
        "senderType": message["senderType"],
        "status": message["status"],
        "createdAt": message["createdAt"],
        "text": message["content"],
        "metadata": message["metadata"],
    }


EVENTS_EXAMPLES = [
    OpenApiExample(
        "Events",
        value={
            "results": [
                {
                    "sequence": 41,
                    "type": "message.created",
                    "conversationId": CONVERSATION_ID,
                    "data": {
                        "conversationId": CONVERSATION_ID,
                        "message": _message_in_event(MESSAGE),
                    },
                    "createdAt": "2026-03-15T14:22:11Z",
                },
                {
                    "sequence": 42,
                    "type": "reply.generated",
                    "conversationId": CONVERSATION_ID,
                    "data": {
                        "conversationId": CONVERSATION_ID,
                        "message": _message_in_event(REPLY),
                        "model": REPLY["model"],
                        "usage": REPLY["usage"],
                    },
                    "createdAt": "2026-03-15T14:22:14Z",
                },
            ],
            "next": 42,
            "hasMore": False,
        },
        response_only=True,
        status_codes=["200"],
    )
]
