"""Seed 001 as a chat client sends it: messages a third of a second apart while the model
(a local fake behind the real SDK) takes 1.5 s per reply, through a live server and a
real Celery worker. Every message is stored; each burst gets one reply, written after
its last message; a person's message discards the reply being written. Needs PostgreSQL."""

import json
import time
import urllib.request
from collections.abc import Callable

import pytest

from conversations.models import Conversation, Event, Message
from tests.factories import ApiKeyFactory, ConversationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MODEL_SECONDS = 1.5
GAP_SECONDS = 0.3


def post_message(
    live_server, key: str, conversation: Conversation, **fields: object
) -> tuple[int, dict]:
    body = {
        "conversation_id": str(conversation.pk),
        "sender_id": "usr_82hd92",
        "sender_type": "user",
        "auto_reply": True,
        **fields,
    }
    request = urllib.request.Request(  # noqa: S310 - the live test server on loopback
        f"{live_server.url}/v1/messages",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def settled(conversation: Conversation) -> bool:
    """Nothing owed and nothing being written."""
    row = Conversation.objects.get(pk=conversation.pk)
    return row.reply_due_at is None and row.reply_started_at is None


def worker_idle() -> bool:
    """No task running, waiting or held for a retry (a busy reply task retries later)."""
    from config.celery import app

    inspect = app.control.inspect(timeout=0.5)
    pending = [inspect.active(), inspect.reserved(), inspect.scheduled()]
    return all(not tasks for answer in pending for tasks in (answer or {}).values())


def agent_replies(conversation: Conversation) -> list[Message]:
    return list(
        Message.objects.filter(
            conversation=conversation, role="agent", sender_id=str(conversation.agent_id)
        )
    )


def test_a_burst_gets_one_reply_that_saw_every_message(
    live_server, celery_worker_process, fake_anthropic
):
    fake_anthropic.default_delay = MODEL_SECONDS
    api_key = ApiKeyFactory()
    conversation = ConversationFactory(workspace=api_key.workspace)
    texts = [f"Burst line {n}" for n in range(1, 7)]

    answers = []
    for text in texts:
        answers.append(post_message(live_server, api_key.raw_key, conversation, text=text))
        time.sleep(GAP_SECONDS)

    assert [status for status, _ in answers] == [201] * 6, answers
    assert all(body["data"]["auto_reply_enqueued"] for _, body in answers)
    assert conversation.messages.filter(role="user").count() == 6
    wait_for(lambda: bool(agent_replies(conversation)) and settled(conversation), 15, "a reply")
    wait_for(worker_idle, 15, "the worker to finish its retries")

    replies = agent_replies(conversation)
    assert len(replies) == 1
    last_message = conversation.messages.filter(role="user").latest("created_at")
    assert replies[0].created_at > last_message.created_at
    last_prompt = json.dumps(fake_anthropic.requests[-1]["json"]["messages"])
    assert all(text in last_prompt for text in texts)
    assert Event.objects.filter(type="reply.generated").count() == 1
    # Superseded replies were written but never stored or sent.
    assert Event.objects.filter(type="reply.discarded").count() == len(fake_anthropic.requests) - 1


def test_no_reply_is_stored_after_a_person_spoke(
    live_server, celery_worker_process, fake_anthropic
):
    fake_anthropic.default_delay = MODEL_SECONDS
    api_key = ApiKeyFactory()
    conversation = ConversationFactory(workspace=api_key.workspace)

    asked = post_message(live_server, api_key.raw_key, conversation, text="Can a person help?")
    wait_for(lambda: bool(fake_anthropic.requests), 10, "the model to start writing")
    person = post_message(
        live_server,
        api_key.raw_key,
        conversation,
        text="Hi, Dana here, I'll take it from here.",
        sender_type="agent",
        sender_id="usr_dana",
    )

    assert (asked[0], person[0]) == (201, 201)
    wait_for(lambda: settled(conversation), 10, "the reply in progress to end")
    wait_for(worker_idle, 15, "the worker to finish")
    assert agent_replies(conversation) == []
    assert Conversation.objects.get(pk=conversation.pk).ai_paused
    assert Event.objects.get(type="reply.discarded").data["reason"] == "paused"
    assert len(fake_anthropic.requests) == 1
