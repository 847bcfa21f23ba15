"""The JSON that events carry: camelCase keys and `_id`, as every endpoint the seeds do
not fix (docs/api.md, "Conventions"). Keys inside what a client or operator wrote
(message metadata, conversation context) are theirs and stay as written. Events of HIPAA
conversations carry ids and statuses only, never message text."""

from conversations.models import Conversation, Message


def iso(value: object) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def message_event(message: Message, conversation: Conversation) -> dict:
    """The message as it is now: call after its status was last changed, so that the
    event says what the row says."""
    body = {
        "_id": str(message.pk),
        "conversationId": str(conversation.pk),
        "role": message.role,
        "senderId": message.sender_id,
        "senderType": message.sender_type,
        "status": message.status,
        "createdAt": iso(message.created_at),
    }
    if not conversation.hipaa:
        body["text"] = message.content
        body["metadata"] = message.metadata
    return {"conversationId": str(conversation.pk), "message": body}


def conversation_event(conversation: Conversation) -> dict:
    """The agent that answers: the conversation's own, else its flow's (as the API's
    `agentId` says). Callers pass a conversation with its flow loaded."""
    agent_id = conversation.agent_id or (
        conversation.flow.agent_id if conversation.flow_id else None
    )
    return {
        "conversationId": str(conversation.pk),
        "flowId": str(conversation.flow_id) if conversation.flow_id else None,
        "agentId": str(agent_id) if agent_id else None,
        "channel": conversation.channel,
    }
