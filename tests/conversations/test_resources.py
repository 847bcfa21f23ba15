"""The answers built without serializers (conversations.resources) equal what their
serializers, which describe them in the OpenAPI schema, would answer."""

import pytest
from django.utils import timezone

from conversations import resources, selectors
from conversations.serializers import (
    EventPageSerializer,
    MessageSerializer,
    SendMessageResponseSerializer,
)
from conversations.services import message_create, message_send
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


def test_a_message_answers_as_its_serializer_would(workspace):
    conversation = ConversationFactory(workspace=workspace)
    asked = message_create(conversation=conversation, role="user", text="When do you open?")
    replied = message_create(
        conversation=conversation,
        role="agent",
        text="At nine.",
        metadata={"source": "ai"},
        reply_to=asked,
        llm_model="claude-test",
        input_tokens=12,
        output_tokens=None,
    )
    replied.send_at = timezone.now()

    for message in (asked, replied):
        assert resources.message(message) == MessageSerializer(message).data


def test_an_events_page_answers_as_its_serializer_would(workspace):
    conversation = ConversationFactory(workspace=workspace)
    message_create(conversation=conversation, role="user", text="Hi")
    events, more = selectors.events_after(
        workspace=workspace, after=0, type=None, conversation_id=None, limit=10, wait=0
    )
    page = {"results": events, "next": events[-1].sequence, "hasMore": more}

    built = resources.events_page(events, next_after=events[-1].sequence, has_more=more)

    assert built == EventPageSerializer(page).data
    assert built["results"]
