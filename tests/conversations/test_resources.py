"""The answers built without serializers (conversations.resources) equal what their
serializers, which describe them in the OpenAPI schema, would answer."""

import pytest

from conversations import resources
from conversations.serializers import SendMessageResponseSerializer
from conversations.services import message_send
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("metadata", [None, {"channel": "web", "nested": {"a": [1, 2]}}])
def test_message_sent_answers_as_its_serializer_would(workspace, metadata):
    conversation = ConversationFactory(workspace=workspace)
    conversation, message, enqueued = message_send(
        workspace=workspace,
        conversation_id=str(conversation.pk),
        flow_id=None,
        sender_id="customer-1",
        sender_type="user",
        text="Hello",
        metadata=metadata,
        reply_to_message_id=None,
        auto_reply=False,
    )
    envelope = {
        "status": "success",
        "message": "Message sent successfully.",
        "data": {
            "conversation_id": conversation.pk,
            "message": message,
            "auto_reply_enqueued": enqueued,
        },
    }

    built = resources.message_sent(conversation, message, enqueued)

    assert built == SendMessageResponseSerializer(envelope).data
