"""The JSON that events carry (seed 001's snake_case). Events of HIPAA conversations
carry ids and statuses only, never message text."""

from conversations.models import Conversation, Message


def iso(value: object) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def message_event(message: Message, conversation: Conversation) -> dict:
    body = {
        "id": str(message.pk),
        "conversation_id": str(conversation.pk),
        "role": message.role,
        "sender_id": message.sender_id,
        "sender_type": message.sender_type,
        "status": message.status,
        "created_at": iso(message.created_at),
    }
    if not conversation.hipaa:
        body["text"] = message.content
        body["metadata"] = message.metadata
    return {"conversation_id": str(conversation.pk), "message": body}


def conversation_event(conversation: Conversation) -> dict:
    return {
        "conversation_id": str(conversation.pk),
        "flow_id": str(conversation.flow_id) if conversation.flow_id else None,
        "agent_id": str(conversation.agent_id) if conversation.agent_id else None,
        "channel": conversation.channel,
    }
