"""GET /v1/messages: the workspace's messages across its conversations, newest first,
so drafts awaiting approval and failed sends can be found."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import Contact, DeliveryStatus, Message
from conversations.serializers import MessageSerializer
from tests.factories import ConversationFactory, MessageFactory, MessageFlowFactory

URL = "/v1/messages"


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [m["_id"] for m in response.json()["results"]]


def test_lists_messages_of_every_conversation_newest_first(owner):
    first = MessageFactory(conversation=ConversationFactory(workspace=owner.workspace))
    second = MessageFactory(conversation=ConversationFactory(workspace=owner.workspace))
    third = MessageFactory(conversation=first.conversation)

    response = owner.client.get(URL)

    assert _ids(response) == [str(third.pk), str(second.pk), str(first.pk)]
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert set(body["results"][0]) == set(MessageSerializer().fields)
    assert body["results"][0]["conversationId"] == str(first.conversation_id)


def test_status_finds_drafts_and_failures(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    draft = MessageFactory(conversation=conversation, status=DeliveryStatus.DRAFT)
    failed = MessageFactory(conversation=conversation, status=DeliveryStatus.FAILED)
    MessageFactory(conversation=conversation, status=DeliveryStatus.SENT)

    assert _ids(owner.client.get(URL, {"status": "draft"})) == [str(draft.pk)]
    assert _ids(owner.client.get(URL, {"status": "failed"})) == [str(failed.pk)]


def test_conversation_flow_and_contact_filters_combine(owner):
    flow = MessageFlowFactory(workspace=owner.workspace)
    contact = Contact.objects.create(
        workspace=owner.workspace, channel="SMS", address="+14155550199"
    )
    in_flow = ConversationFactory(workspace=owner.workspace, flow=flow)
    with_contact = ConversationFactory(workspace=owner.workspace, flow=flow, contact=contact)
    other = ConversationFactory(workspace=owner.workspace)
    a = MessageFactory(conversation=in_flow)
    b = MessageFactory(conversation=with_contact, status=DeliveryStatus.DRAFT)
    MessageFactory(conversation=other)

    assert _ids(owner.client.get(URL, {"conversation": str(in_flow.pk)})) == [str(a.pk)]
    assert _ids(owner.client.get(URL, {"flow": str(flow.pk)})) == [str(b.pk), str(a.pk)]
    assert _ids(owner.client.get(URL, {"contact": str(contact.pk)})) == [str(b.pk)]
    both = {"flow": str(flow.pk), "status": "draft", "contact": str(contact.pk)}
    assert _ids(owner.client.get(URL, both)) == [str(b.pk)]
    assert _ids(owner.client.get(URL, {"flow": str(flow.pk), "status": "failed"})) == []


def test_since_keeps_messages_created_at_or_after(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    old = MessageFactory(conversation=conversation)
    new = MessageFactory(conversation=conversation)
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert _ids(owner.client.get(URL, {"since": since})) == [str(new.pk)]


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "sending-soon"),
        ("status", "DRAFT"),
        ("conversation", "con_9s2kd81"),
        ("flow", "12"),
        ("contact", "not-a-uuid"),
        ("since", "yesterday"),
    ],
)
def test_a_malformed_filter_is_a_400_naming_it(owner, param, value):
    response = owner.client.get(URL, {param: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == [param]
    assert f"'{param}'" in body["message"]


def test_limit_and_cursor_page_through_everything(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    messages = [MessageFactory(conversation=conversation) for _ in range(5)]

    seen, response = [], owner.client.get(URL, {"limit": 2})
    while True:
        seen += _ids(response)
        if not response.json()["next"]:
            break
        response = owner.client.get(response.json()["next"])

    assert seen == [str(m.pk) for m in reversed(messages)]


def test_an_outsider_finds_none_of_the_owners_messages(owner, outsider):
    conversation = ConversationFactory(workspace=owner.workspace)
    MessageFactory(conversation=conversation, status=DeliveryStatus.DRAFT)

    assert _ids(outsider.client.get(URL)) == []
    assert _ids(outsider.client.get(URL, {"conversation": str(conversation.pk)})) == []


def test_a_read_only_key_may_list(read_only):
    assert read_only.client.get(URL).status_code == 200


def _queries_for_a_page(client, count: int, workspace) -> int:
    conversation = ConversationFactory(workspace=workspace)
    for index in range(count):
        MessageFactory(
            conversation=conversation,
            status=DeliveryStatus.DRAFT,
            input_tokens=index,
            output_tokens=index,
        )
    client.get(URL)  # the key's last-used time is written at most once a minute
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"limit": 200})
    assert len(response.json()["results"]) == count
    Message.objects.filter(workspace=workspace).delete()
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_page(owner):
    assert _queries_for_a_page(owner.client, 5, owner.workspace) == _queries_for_a_page(
        owner.client, 50, owner.workspace
    )
