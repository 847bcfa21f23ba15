"""Seed 001: POST /v1/messages."""

import uuid

import pytest
from django.db import DatabaseError, connection

from conversations import services
from conversations.models import Conversation, Event, Message
from tests.factories import ConversationFactory, MessageFactory, MessageFlowFactory

URL = "/v1/messages"
SEED_REQUEST = {
    "sender_id": "usr_82hd92",
    "sender_type": "user",
    "text": "Can you summarize my last 5 calls?",
    "metadata": {"channel": "web", "locale": "en-US"},
    "auto_reply": True,
}


def test_seed_001_example_request_answers_with_the_seed_envelope(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)

    response = api_client.post(
        URL, {**SEED_REQUEST, "conversation_id": str(conversation.pk)}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"status", "message", "data"}
    assert body["status"] == "success"
    assert body["message"] == "Message sent successfully."
    assert set(body["data"]) == {"conversation_id", "message", "auto_reply_enqueued"}
    assert body["data"]["conversation_id"] == str(conversation.pk)
    assert body["data"]["auto_reply_enqueued"] is True
    message = body["data"]["message"]
    assert set(message) == {"id", "sender_id", "sender_type", "text", "metadata", "created_at"}
    assert message["sender_id"] == "usr_82hd92"
    assert message["sender_type"] == "user"
    assert message["text"] == SEED_REQUEST["text"]
    assert message["metadata"] == {"channel": "web", "locale": "en-US"}
    assert message["created_at"].endswith("Z")


def test_auto_reply_appears_as_events(
    api_client, workspace, celery_eager, django_capture_on_commit_callbacks
):
    conversation = ConversationFactory(workspace=workspace)

    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            URL, {**SEED_REQUEST, "conversation_id": str(conversation.pk)}, format="json"
        )

    events = api_client.get("/v1/events", {"conversation": str(conversation.pk)}).json()["results"]
    assert [e["type"] for e in events] == ["message.created", "message.created", "reply.generated"]
    reply = events[-1]["data"]["message"]
    assert reply["role"] == "agent"
    assert "Can you summarize my last 5 calls?" in reply["text"]
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None


def test_without_a_conversation_id_a_conversation_is_created_with_the_default_flow(
    api_client, workspace
):
    flow = MessageFlowFactory(workspace=workspace)
    workspace.default_flow = flow
    workspace.save()

    body = api_client.post(URL, {**SEED_REQUEST, "auto_reply": False}, format="json").json()

    conversation = Conversation.objects.get(pk=body["data"]["conversation_id"])
    assert conversation.flow == flow
    assert conversation.workspace == workspace


def test_a_flow_id_in_the_body_chooses_the_new_conversations_flow(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace)

    body = api_client.post(URL, {**SEED_REQUEST, "flow_id": str(flow.pk)}, format="json").json()

    assert Conversation.objects.get(pk=body["data"]["conversation_id"]).flow == flow


def test_auto_reply_defaults_to_true_but_needs_an_agent(api_client, workspace):
    body = api_client.post(
        URL, {k: v for k, v in SEED_REQUEST.items() if k != "auto_reply"}, format="json"
    )

    assert body.status_code == 201
    assert body.json()["data"]["auto_reply_enqueued"] is False  # no flow, no agent


def test_agent_and_system_messages_never_enqueue_a_reply(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)

    for sender_type in ("agent", "system"):
        body = api_client.post(
            URL,
            {**SEED_REQUEST, "sender_type": sender_type, "conversation_id": str(conversation.pk)},
            format="json",
        ).json()
        assert body["data"]["auto_reply_enqueued"] is False


def test_missing_text_is_400_with_the_seeds_message(api_client):
    payload = {k: v for k, v in SEED_REQUEST.items() if k != "text"}

    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Field 'text' is required."
    assert response.json()["status"] == "error"
    assert response.json()["data"] is None
    assert not Message.objects.exists()


def test_unknown_token_is_401_with_the_seeds_message(client, db):
    response = client.post(
        URL,
        SEED_REQUEST,
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer sk_test_51_fakeapikey123456",
    )

    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or expired token."


def test_unknown_conversation_is_404_with_the_seeds_message(api_client):
    response = api_client.post(
        URL, {**SEED_REQUEST, "conversation_id": "con_9s2kd81"}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["message"] == "Conversation not found: con_9s2kd81."


@pytest.mark.parametrize("auto_reply", [True, False])
def test_another_workspaces_conversation_is_404_and_untouched(api_client, outsider, auto_reply):
    """Without a reply to owe, the write itself looks the conversation up
    (services.message_append): it must find none of another workspace's."""
    theirs = ConversationFactory(workspace=outsider.workspace)
    before = theirs.updated_at

    response = api_client.post(
        URL,
        {**SEED_REQUEST, "conversation_id": str(theirs.pk), "auto_reply": auto_reply},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["message"] == f"Conversation not found: {theirs.pk}."
    assert not theirs.messages.exists()
    assert not Event.objects.filter(conversation_id=theirs.pk, type="message.created").exists()
    theirs.refresh_from_db()
    assert (theirs.updated_at, theirs.message_count) == (before, 0)


def test_an_unknown_conversation_id_without_auto_reply_is_404_and_stores_nothing(
    api_client, workspace
):
    missing = uuid.uuid4()

    response = api_client.post(
        URL, {**SEED_REQUEST, "conversation_id": str(missing), "auto_reply": False}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["message"] == f"Conversation not found: {missing}."
    assert not Message.objects.exists()
    assert not Event.objects.filter(type="message.created").exists()


def test_a_hipaa_conversations_message_without_auto_reply_is_sealed_at_rest(api_client, workspace):
    """The one-statement way writes plain text only: a HIPAA conversation's message goes
    the way that seals it, and its event carries no text."""
    conversation = ConversationFactory(workspace=workspace, hipaa=True)

    response = api_client.post(
        URL,
        {**SEED_REQUEST, "conversation_id": str(conversation.pk), "auto_reply": False},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["data"]["message"]["text"] == SEED_REQUEST["text"]
    stored = Message.objects.get(conversation=conversation)
    assert stored.content == SEED_REQUEST["text"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT text, metadata FROM conversations_message WHERE id = %s",
            [Message._meta.pk.get_db_prep_value(stored.pk, connection)],
        )
        text, metadata = cursor.fetchone()
    assert SEED_REQUEST["text"] not in text
    assert "en-US" not in str(metadata)
    assert stored.metadata == SEED_REQUEST["metadata"]
    event = Event.objects.get(conversation_id=conversation.pk, type="message.created")
    assert "text" not in event.data["message"]
    conversation.refresh_from_db()
    assert conversation.message_count == 1


@pytest.mark.parametrize("auto_reply", [True, False])
def test_a_message_that_cannot_be_stored_is_500_with_the_seeds_message(
    api_client, workspace, monkeypatch, auto_reply
):
    """With auto_reply false the message takes the one-statement way (message_append)."""
    conversation = ConversationFactory(workspace=workspace)

    def broken(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(services, "write_together", broken)
    monkeypatch.setattr(services, "write_if", broken)

    response = api_client.post(
        URL,
        {**SEED_REQUEST, "conversation_id": str(conversation.pk), "auto_reply": auto_reply},
        format="json",
    )

    assert response.status_code == 500
    assert response.json()["message"] == "Failed to enqueue message. Please retry."
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None
    assert not conversation.messages.exists()


def test_reply_to_must_be_a_message_of_the_same_conversation(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    elsewhere = MessageFactory(conversation=ConversationFactory(workspace=workspace))
    here = MessageFactory(conversation=conversation)
    base = {**SEED_REQUEST, "conversation_id": str(conversation.pk), "auto_reply": False}

    wrong = api_client.post(URL, {**base, "reply_to_message_id": str(elsewhere.pk)}, format="json")
    right = api_client.post(URL, {**base, "reply_to_message_id": str(here.pk)}, format="json")

    assert wrong.status_code == 400
    assert "same conversation" in wrong.json()["message"]
    assert right.status_code == 201
    assert Message.objects.get(pk=right.json()["data"]["message"]["id"]).reply_to == here


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sender_type": "robot"}, "Field 'sender_type' is invalid"),
        ({"sender_id": None}, "Field 'sender_id' may not be null."),
        ({"auto_reply": "yes"}, "Field 'auto_reply' is invalid: Must be true or false."),
        ({"metadata": "tags"}, "Field 'metadata' is invalid"),
    ],
)
def test_bad_fields_are_400_naming_them(api_client, change, message):
    response = api_client.post(URL, {**SEED_REQUEST, **change}, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_broker_down_keeps_the_reply_owed_and_the_sweep_runs_it(
    api_client, workspace, monkeypatch, settings
):
    from conversations import tasks
    from core import jobs

    conversation = ConversationFactory(workspace=workspace)

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("broker is down")

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "_publish", broker_down)
        response = api_client.post(
            URL, {**SEED_REQUEST, "conversation_id": str(conversation.pk)}, format="json"
        )

    assert response.status_code == 201
    assert response.json()["data"]["auto_reply_enqueued"] is True
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None
    assert not Event.objects.filter(type="reply.generated").exists()

    settings.REPLY_SWEEP_GRACE = 0
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        assert tasks.sweep_due_replies() == 1
    finally:
        app.conf.task_always_eager = False

    assert (
        Event.objects.filter(type="reply.generated", conversation_id=conversation.pk).count() == 1
    )
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None


def test_reply_generation_is_routed_to_the_llm_queue():
    from config.celery import app

    route = app.amqp.router.route({}, "conversations.generate_reply", args=["x"], kwargs={})

    assert route["queue"].name == "llm"
