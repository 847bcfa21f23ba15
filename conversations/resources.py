"""What the API's hottest endpoints answer, built as plain dicts.

DRF's serializers cost more than everything else in these requests together (a deep
copy of their fields per instance, then a call per field per row). The serializers in
conversations.serializers still describe these answers in the OpenAPI schema, and
tests/conversations/test_resources.py holds each function here equal to its serializer's
output, so the two cannot drift apart."""

from conversations.models import Conversation, Message
from core.fields import datetime_text


def message_sent(conversation: Conversation, message: Message, enqueued: bool) -> dict:
    """POST /v1/messages's 201 (seed 001's envelope, snake_case as the seed writes it);
    SendMessageResponseSerializer."""
    return {
        "status": "success",
        "message": "Message sent successfully.",
        "data": {
            "conversation_id": str(conversation.pk),
            "message": {
                "id": str(message.pk),
                "sender_id": message.sender_id,
                "sender_type": message.sender_type,
                "text": message.content,
                "metadata": message.metadata,
                "created_at": datetime_text(message.created_at),
            },
            "auto_reply_enqueued": enqueued,
        },
    }
