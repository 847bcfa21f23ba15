"""Seeds 001 and 002 against a running server and a real worker, Claude faked at the
network edge behind the real SDK. Needs PostgreSQL (a database both processes share)."""

import json
import urllib.request

import pytest

from conversations.models import Conversation
from tests.factories import ApiKeyFactory, ConversationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def call(method: str, url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - the live test server on loopback
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_seed_001_auto_reply_reaches_the_events_through_a_real_worker(
    live_server, celery_worker_process, fake_anthropic
):
    api_key = ApiKeyFactory()
    conversation = ConversationFactory(workspace=api_key.workspace)

    status, sent = call(
        "POST",
        f"{live_server.url}/v1/messages",
        api_key.raw_key,
        {
            "conversation_id": str(conversation.pk),
            "sender_id": "usr_82hd92",
            "sender_type": "user",
            "text": "Can you summarize my last 5 calls?",
            "metadata": {"channel": "web", "locale": "en-US"},
            "auto_reply": True,
        },
    )
    assert status == 201
    assert sent["data"]["auto_reply_enqueued"] is True

    after, reply = 0, None
    for _ in range(20):
        _, page = call("GET", f"{live_server.url}/v1/events?wait=5&after={after}", api_key.raw_key)
        after = page["next"]
        reply = next((e for e in page["results"] if e["type"] == "reply.generated"), None)
        if reply:
            break
    assert reply is not None, "no reply.generated event"
    assert reply["data"]["message"]["text"] == "Fake reply to: Can you summarize my last 5 calls?"
    assert len(fake_anthropic.requests) == 1
    assert Conversation.objects.get(pk=conversation.pk).reply_due_at is None


def test_seed_002_generate_reply_against_a_running_server(live_server, fake_anthropic):
    api_key = ApiKeyFactory()
    conversation = ConversationFactory(workspace=api_key.workspace)

    status, body = call(
        "POST",
        f"{live_server.url}/v1/conversations/{conversation.pk}/messages",
        api_key.raw_key,
        {"role": "user", "content": "Is Sunday open?", "action": "generate-reply"},
    )

    assert status == 201, body
    assert body["reply"]["content"] == "Fake reply to: Is Sunday open?"
    assert body["conversation"]["messageCount"] == 2
