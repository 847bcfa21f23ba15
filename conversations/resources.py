"""What the API's hottest endpoints answer, built as plain dicts.

DRF's serializers cost more than everything else in these requests together (a deep
copy of their fields per instance, then a call per field per row). The serializers in
conversations.serializers still describe these answers in the OpenAPI schema, and
tests/conversations/test_resources.py holds each function here equal to its serializer's
output, so the two cannot drift apart."""

from datetime import tzinfo

from django.utils import timezone

from conversations.models import Conversation, Event, Message
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


def message(message: Message, zone: tzinfo | None = None) -> dict:
    """A message as the messages resource shows it; MessageSerializer. A page passes the
    current time zone once (core.fields.datetime_text)."""
    usage = None
    if message.input_tokens is not None or message.output_tokens is not None:
        usage = {"inputTokens": message.input_tokens, "outputTokens": message.output_tokens}
    return {
        "_id": str(message.pk),
        "conversationId": str(message.conversation_id),
        "role": message.role,
        "content": message.content,
        "senderId": message.sender_id,
        "senderType": message.sender_type,
        "metadata": message.metadata,
        "replyToId": str(message.reply_to_id) if message.reply_to_id else None,
        "status": message.status,
        "sendAt": datetime_text(message.send_at, zone),
        "model": message.llm_model,
        "usage": usage,
        "createdAt": datetime_text(message.created_at, zone),
    }


def messages(page: list[Message]) -> list[dict]:
    """A page of messages, each as `message` shows it."""
    zone = timezone.get_current_timezone()
    return [message(row, zone) for row in page]


def events_page(events: list[Event], *, next_after: int, has_more: bool) -> dict:
    """GET /v1/events's answer; EventPageSerializer."""
    zone = timezone.get_current_timezone()
    return {
        "results": [
            {
                "sequence": event.sequence,
                "type": event.type,
                "conversationId": str(event.conversation_id) if event.conversation_id else None,
                "data": event.data,
                "createdAt": datetime_text(event.created_at, zone),
            }
            for event in events
        ],
        "next": next_after,
        "hasMore": has_more,
    }
