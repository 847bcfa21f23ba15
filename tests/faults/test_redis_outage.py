"""Redis is not a single point of failure for taking messages: with the broker and the
cache down, the real web process still authenticates, stores and answers 201; the
replies and sends owed meanwhile go out once Redis is back, each exactly once."""

import time

import pytest
import requests

from conversations.models import Conversation, Message
from conversations.services import conversation_create
from tests.factories import AgentFactory, ApiKeyFactory, MessageFlowFactory
from tests.faults.conftest import wait_until

pytestmark = [pytest.mark.fault, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def answered(conversation: Conversation) -> bool:
    """Every customer message has an agent reply after it."""
    last_user = conversation.messages.filter(role="user").order_by("-created_at").first()
    return conversation.messages.filter(role="agent", created_at__gt=last_user.created_at).exists()


def test_with_redis_down_messages_are_stored_and_go_out_once_it_is_back(stack, fake_twilio):
    api_key = ApiKeyFactory()
    workspace = api_key.workspace
    headers = {
        "Authorization": f"Bearer {api_key.raw_key}",
        "x-workspace-id": str(workspace.pk),
    }
    agent = AgentFactory(workspace=workspace)
    flow = MessageFlowFactory(workspace=workspace, agent=agent, is_active=True, autopilot=True)
    chats = [conversation_create(workspace=workspace, agent=agent) for _ in range(4)]
    stack.start_redis()
    stack.start_web()
    stack.start_worker()
    stack.start_beat()

    def say(conversation: Conversation, text: str) -> requests.Response:
        body = {"conversation_id": str(conversation.pk), "sender_id": "c", "sender_type": "user"}
        return requests.post(
            f"{stack.url}/v1/messages", json={**body, "text": text}, headers=headers, timeout=10
        )

    def open_with(number: str) -> requests.Response:
        body = {"flowId": str(flow.pk), "to": number, "autopilot": True}
        return requests.post(
            f"{stack.url}/v1/api/conversations/message/generate",
            json=body,
            headers=headers,
            timeout=10,
        )

    assert say(chats[0], "before the outage").status_code == 201
    assert open_with("+14155550100").status_code == 201
    assert wait_until(lambda: answered(chats[0]) and len(fake_twilio.messages) == 1, 30)

    stack.stop_redis()
    slowest = 0.0
    for index, chat in enumerate(chats[1:], start=1):
        started = time.monotonic()
        assert say(chat, f"during the outage {index}").status_code == 201
        assert open_with(f"+1415555011{index}").status_code == 201
        slowest = max(slowest, time.monotonic() - started)
    ready = requests.get(f"{stack.url}/readyz", timeout=10).json()
    assert ready["status"] == "degraded"
    assert {"broker", "cache"} <= set(ready["degraded"])
    assert Message.objects.filter(role="user").count() == 4  # every message stored
    assert len(fake_twilio.messages) == 1  # nothing could be sent meanwhile

    stack.start_redis()  # empty: the queued tasks are gone with the old one

    assert wait_until(lambda: all(answered(chat) for chat in chats), 60), "a reply was lost"
    assert wait_until(lambda: len(fake_twilio.messages) == 4, 60), "a send was lost"
    time.sleep(3)  # a duplicate would show up by now
    sent_to = sorted(message["to"] for message in fake_twilio.messages)
    assert sent_to == sorted({*sent_to})
    assert len(sent_to) == 4
    for chat in chats:
        assert chat.messages.filter(role="agent").count() == 1
    print(f"slowest request pair during the outage: {slowest:.2f} s")
    assert slowest < 10
