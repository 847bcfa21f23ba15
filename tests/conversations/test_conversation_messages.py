"""Seed 002: POST /v1/conversations/{id}/messages, and the message list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from tests.factories import ConversationFactory, MessageFactory, MessageFlowFactory


def url(conversation: Conversation) -> str:
    return f"/v1/conversations/{conversation.pk}/messages"


@pytest.fixture
def conversation(workspace) -> Conversation:
    return ConversationFactory(workspace=workspace)


def test_user_message_with_generate_reply_returns_the_agents_reply(api_client, conversation):
    response = api_client.post(
        url(conversation),
        {"role": "user", "content": "Can I move my visit?", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"message", "reply", "conversation"}
    assert body["message"]["role"] == "user"
    assert body["message"]["content"] == "Can I move my visit?"
    assert body["reply"]["role"] == "agent"
    assert "Can I move my visit?" in body["reply"]["content"]
    assert body["reply"]["metadata"] == {"offline": True}
    assert body["conversation"]["messageCount"] == 2
    assert body["conversation"]["replyStatus"] == "idle"


def test_control_message_with_generate_reply_makes_the_agent_speak_first(api_client, conversation):
    response = api_client.post(
        url(conversation),
        {"role": "control", "content": "Greet the customer.", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["message"]["role"] == "control"
    assert body["reply"]["role"] == "agent"
    assert "Greet the customer." not in body["reply"]["content"]  # never the user's words


def test_control_without_content_can_just_generate(api_client, conversation):
    response = api_client.post(
        url(conversation), {"role": "control", "action": "generate-reply"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["message"] is None
    assert response.json()["reply"]["role"] == "agent"


def test_agent_role_adds_a_message_generated_elsewhere_without_a_reply(api_client, conversation):
    response = api_client.post(
        url(conversation), {"role": "agent", "content": "Written by a human."}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["reply"] is None
    assert conversation.messages.get().role == "agent"


def test_state_after_sets_only_the_fields_it_names(api_client, workspace):
    conversation = ConversationFactory(
        workspace=workspace, playbook="book", phase="one", system_message="sys", context={"a": 1}
    )

    response = api_client.post(
        url(conversation),
        {"role": "control", "stateAfter": {"phase": "two", "context": {"b": 2}}},
        format="json",
    )

    assert response.status_code == 201
    state = response.json()["conversation"]
    assert (state["playbook"], state["phase"], state["systemMessage"], state["context"]) == (
        "book",
        "two",
        "sys",
        {"b": 2},
    )


def test_while_a_reply_is_generating_every_post_is_409(api_client, conversation):
    Conversation.objects.filter(pk=conversation.pk).update(reply_started_at=timezone.now())

    for payload in (
        {"role": "user", "content": "hello"},
        {"role": "user", "content": "hello", "action": "generate-reply"},
        {"role": "control", "stateAfter": {"phase": "x"}},
    ):
        response = api_client.post(url(conversation), payload, format="json")
        assert response.status_code == 409, payload
        assert response.json()["code"] == "reply_in_progress"
    assert not conversation.messages.exists()


def test_a_lock_older_than_the_generation_timeout_is_stale(api_client, conversation, settings):
    started = timezone.now() - timedelta(seconds=settings.REPLY_LOCK_TIMEOUT + 1)
    Conversation.objects.filter(pk=conversation.pk).update(reply_started_at=started)

    response = api_client.post(
        url(conversation),
        {"role": "user", "content": "hi", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 201
    conversation.refresh_from_db()
    assert conversation.reply_started_at is None


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_messages_cannot_be_changed_or_deleted(api_client, conversation, method):
    message = MessageFactory(conversation=conversation, text="original")

    response = getattr(api_client, method)(
        f"{url(conversation)}/{message.pk}", {"content": "x"}, format="json"
    )

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    message.refresh_from_db()
    assert message.content == "original"


def test_a_message_can_be_read(api_client, conversation):
    message = MessageFactory(conversation=conversation, text="hello")

    body = api_client.get(f"{url(conversation)}/{message.pk}").json()

    assert body["content"] == "hello"
    assert body["status"] == "none"
    assert body["sendAt"] is None


def test_messages_are_listed_oldest_first_with_a_cursor(api_client, conversation):
    messages = [MessageFactory(conversation=conversation) for _ in range(3)]

    first = api_client.get(url(conversation), {"limit": 2}).json()
    second = api_client.get(first["next"]).json()

    assert [m["_id"] for m in first["results"] + second["results"]] == [str(m.pk) for m in messages]


def test_bad_role_is_400(api_client, conversation):
    response = api_client.post(url(conversation), {"role": "wizard", "content": "x"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Field 'role' is invalid")


def test_user_message_without_content_is_400(api_client, conversation):
    response = api_client.post(url(conversation), {"role": "user"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Field 'content' is required."


def test_no_key_is_401(client, conversation):
    response = client.post(
        url(conversation), {"role": "user", "content": "x"}, content_type="application/json"
    )

    assert response.status_code == 401


def test_read_only_key_is_403(read_only, workspace):
    conversation = ConversationFactory(workspace=workspace)

    response = read_only.client.post(
        url(conversation), {"role": "user", "content": "x"}, format="json"
    )

    assert response.status_code == 403


def test_another_workspaces_conversation_is_404(api_client, outsider):
    theirs = ConversationFactory(workspace=outsider.workspace)

    assert (
        api_client.post(url(theirs), {"role": "user", "content": "x"}, format="json").status_code
        == 404
    )
    assert api_client.get(url(theirs)).status_code == 404
    assert not theirs.messages.exists()


def test_too_many_requests_is_429(api_client, conversation, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/min"},
    }

    api_client.post(url(conversation), {"role": "user", "content": "x"}, format="json")
    response = api_client.post(url(conversation), {"role": "user", "content": "y"}, format="json")

    assert response.status_code == 429
    assert "Retry-After" in response


def test_provider_refusal_is_500_recorded_as_reply_failed(api_client, conversation, fake_anthropic):
    fake_anthropic.enqueue(
        status=400,
        body={
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "prompt too long"},
        },
    )

    response = api_client.post(
        url(conversation),
        {"role": "user", "content": "hi", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 500
    assert response.json()["code"] == "reply_failed"
    assert "prompt too long" in response.json()["message"]
    events = api_client.get("/v1/events", {"type": "reply.failed"}).json()["results"]
    assert events[0]["data"]["error"] == "prompt too long"
    conversation.refresh_from_db()
    assert conversation.reply_started_at is None
    assert conversation.messages.count() == 1  # the user's message stays


def test_claude_reply_through_the_sdk_stores_model_and_usage(
    api_client, conversation, fake_anthropic
):
    response = api_client.post(
        url(conversation),
        {"role": "user", "content": "What are your hours?", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    reply = response.json()["reply"]
    assert reply["content"] == "Fake reply to: What are your hours?"
    assert reply["usage"]["inputTokens"] > 0
    assert reply["model"]
    sent = fake_anthropic.requests[-1]["json"]
    assert sent["messages"][-1] == {"role": "user", "content": "What are your hours?"}
    assert sent["model"] == conversation.agent.model
    stored = Message.objects.get(pk=reply["_id"])
    assert stored.output_tokens is not None


def test_generation_without_an_agent_is_400(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace, agent=None)

    response = api_client.post(
        url(conversation),
        {"role": "user", "content": "x", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "no_agent"
    assert not conversation.messages.exists()


def test_flow_agent_speaks_when_the_conversation_has_none(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace)
    conversation = ConversationFactory(workspace=workspace, agent=None, flow=flow)

    response = api_client.post(
        url(conversation),
        {"role": "user", "content": "x", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["reply"]["senderId"] == str(flow.agent_id)


def test_a_control_message_with_nothing_to_do_is_400_and_changes_nothing(api_client, conversation):
    response = api_client.post(url(conversation), {"role": "control"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not conversation.messages.exists()


def test_a_state_change_alone_is_kept_in_the_transcript(api_client, conversation):
    response = api_client.post(
        url(conversation),
        {"role": "control", "stateAfter": {"phase": "closing", "systemMessage": "Be kind"}},
        format="json",
    )

    assert response.status_code == 201
    note = response.json()["message"]
    assert note["role"] == "control"
    assert note["metadata"] == {"stateAfter": {"phase": "closing", "systemMessage": "Be kind"}}
    assert conversation.messages.get().role == "control"
