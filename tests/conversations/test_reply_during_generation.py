"""Messages that arrive while the reply task is writing a reply: always stored; the reply
in progress gives way to one reply that has seen them (a newer customer message), to the
person who took over, or to an opt-out. The model is the offline provider, with a hook
that lets the test act while it is "writing"."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from agents import llm
from channels.models import Channel
from conversations import services
from conversations.inbound import inbound_receive
from conversations.models import Contact, Conversation, Event, Role
from conversations.tasks import generate_reply
from core import jobs
from tests.factories import ConversationFactory, MessageFlowFactory

URL = "/v1/messages"


class WritingModel:
    """The offline provider, running `during` (once) while it writes its first reply, as
    a message arriving mid-generation would. Records the prompts it was given."""

    def __init__(self) -> None:
        self.during: Callable[[], object] | None = None
        self.prompts: list[str] = []

    def complete(self, request: llm.CompletionRequest) -> llm.Completion:
        self.prompts.append(str(request.messages))
        during, self.during = self.during, None
        if during is not None:
            during()
        return llm.OfflineProvider().complete(request)


@pytest.fixture
def model(monkeypatch) -> WritingModel:
    writing = WritingModel()
    monkeypatch.setattr(llm, "get_provider", lambda: writing)
    return writing


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, list]]:
    """Tasks enqueued (after commit), instead of sending them to the broker."""
    calls: list[tuple[str, list]] = []

    def record(name: str, args: list, *, at: datetime | None = None) -> bool:
        calls.append((name, args))
        return True

    monkeypatch.setattr(jobs, "enqueue", record)
    return calls


@pytest.fixture
def conversation(workspace) -> Conversation:
    return ConversationFactory(workspace=workspace)


def say(api_client, conversation: Conversation, text: str, **fields: object) -> dict:
    response = api_client.post(
        URL,
        {
            "conversation_id": str(conversation.pk),
            "sender_id": "usr_1",
            "sender_type": "user",
            "text": text,
            **fields,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def agent_replies(conversation: Conversation) -> list[str]:
    agent_id = str(services.conversation_agent(conversation).pk)
    return [m.content for m in conversation.messages.filter(role=Role.AGENT, sender_id=agent_id)]


def test_a_customer_message_while_a_reply_is_generating_is_stored_not_refused(
    api_client, conversation
):
    Conversation.objects.filter(pk=conversation.pk).update(reply_started_at=timezone.now())

    data = say(api_client, conversation, "Are you still there?")

    assert data["auto_reply_enqueued"] is True
    assert conversation.messages.get().content == "Are you still there?"
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None


def test_a_reply_overtaken_by_a_newer_customer_message_is_discarded_and_stays_owed(
    api_client, conversation, model, enqueued, django_capture_on_commit_callbacks
):
    say(api_client, conversation, "Hi")
    model.during = lambda: say(api_client, conversation, "I need to reschedule")

    with django_capture_on_commit_callbacks(execute=True):
        generate_reply.apply(args=[str(conversation.pk)])

    assert agent_replies(conversation) == []  # never stored, never sent
    discarded = Event.objects.get(type="reply.discarded")
    assert discarded.data["reason"] == "superseded"
    assert "text" not in discarded.data
    assert "message" not in discarded.data
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None  # still owed
    assert conversation.reply_started_at is None
    # The newer message's own task, and a fresh one for the reply that stays owed.
    assert enqueued == [("conversations.generate_reply", [str(conversation.pk)])] * 2


def test_a_burst_during_generation_gets_one_reply_that_saw_every_message(
    api_client, conversation, model, celery_eager, django_capture_on_commit_callbacks
):
    def burst() -> None:
        say(api_client, conversation, "I need to reschedule")
        say(api_client, conversation, "Thursday works")

    model.during = burst

    with django_capture_on_commit_callbacks(execute=True):
        say(api_client, conversation, "Hi")

    replies = agent_replies(conversation)
    assert len(replies) == 1
    assert len(model.prompts) == 2
    assert all(words in model.prompts[-1] for words in ("Hi", "reschedule", "Thursday works"))
    assert "Hi" in model.prompts[0]
    assert "Thursday works" not in model.prompts[0]
    assert Event.objects.filter(type="reply.discarded").count() == 1
    assert Event.objects.filter(type="reply.generated").count() == 1
    conversation.refresh_from_db()
    assert conversation.reply_due_at is None
    assert conversation.reply_started_at is None


def test_a_message_without_auto_reply_during_generation_still_supersedes_the_reply(
    api_client, conversation, model, celery_eager, django_capture_on_commit_callbacks
):
    model.during = lambda: say(api_client, conversation, "PS: my dog", auto_reply=False)

    with django_capture_on_commit_callbacks(execute=True):
        say(api_client, conversation, "Hi")

    assert len(agent_replies(conversation)) == 1
    assert "PS: my dog" in model.prompts[-1]


def test_a_person_speaking_during_generation_discards_the_reply_and_pauses_the_ai(
    api_client, conversation, model, enqueued, django_capture_on_commit_callbacks
):
    say(api_client, conversation, "Can I talk to someone?")
    model.during = lambda: say(
        api_client, conversation, "Hi, this is Dana.", sender_type="agent", sender_id="usr_dana"
    )

    with django_capture_on_commit_callbacks(execute=True):
        generate_reply.apply(args=[str(conversation.pk)])

    assert agent_replies(conversation) == []
    assert conversation.messages.filter(sender_id="usr_dana").get().content == "Hi, this is Dana."
    assert Event.objects.get(type="reply.discarded").data["reason"] == "paused"
    conversation.refresh_from_db()
    assert conversation.ai_paused
    assert conversation.reply_due_at is None
    assert conversation.reply_started_at is None
    assert enqueued == []  # nothing re-enqueued: no reply is owed


def test_the_agents_own_message_during_generation_does_not_discard_the_reply(
    api_client, conversation, model, django_capture_on_commit_callbacks
):
    say(api_client, conversation, "Hi")
    agent_id = str(conversation.agent_id)
    model.during = lambda: say(
        api_client, conversation, "One moment.", sender_type="agent", sender_id=agent_id
    )

    generate_reply.apply(args=[str(conversation.pk)])

    assert len(agent_replies(conversation)) == 2  # "One moment." and the reply
    assert not Event.objects.filter(type="reply.discarded").exists()


def test_an_opt_out_during_generation_discards_the_reply(workspace, model, fake_twilio):
    flow = MessageFlowFactory(workspace=workspace, is_active=True, autopilot=True)
    contact = Contact.objects.create(
        workspace=workspace, channel=Channel.SMS, address="+14155550123"
    )
    conversation = ConversationFactory(
        workspace=workspace, flow=flow, agent=None, contact=contact, reply_due_at=timezone.now()
    )
    services.message_create(conversation=conversation, role=Role.USER, text="Hello")
    model.during = lambda: inbound_receive(
        workspace_id=workspace.pk,
        flow=flow,
        channel=Channel.SMS,
        from_address=contact.address,
        text="STOP",
        provider_message_id="SM" + "9" * 32,
        conversation=conversation,
    )

    generate_reply.apply(args=[str(conversation.pk)])

    assert agent_replies(conversation) == []
    assert Event.objects.get(type="reply.discarded").data["reason"] == "not_owed"


def test_seed_002_generate_reply_still_stores_its_reply_when_a_customer_writes_meanwhile(
    api_client, conversation, model
):
    model.during = lambda: say(api_client, conversation, "Also, Thursday?")

    response = api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "user", "content": "Hi", "action": "generate-reply"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["reply"]["role"] == "agent"
    conversation.refresh_from_db()
    assert conversation.reply_due_at is not None  # the seed 001 message is still owed


# --- reply_owed: when the reply to a customer's message is due ----------------------------

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday


def test_without_a_flow_the_reply_is_due_at_once(conversation):
    assert services.reply_owed(conversation=conversation, now=NOON) == NOON


def test_with_a_flow_the_reply_waits_for_its_quiet_window(workspace):
    flow = MessageFlowFactory(workspace=workspace, reply_delay_seconds=30)
    conversation = ConversationFactory(workspace=workspace, flow=flow, agent=None)

    due = services.reply_owed(conversation=conversation, now=NOON)

    assert due == NOON + timedelta(seconds=30)
    conversation.refresh_from_db()
    assert conversation.reply_due_at == due


def test_out_of_working_hours_the_reply_is_due_a_quiet_window_after_the_opening(workspace):
    flow = MessageFlowFactory(
        workspace=workspace, reply_delay_seconds=30, working_hours_enabled=True
    )
    conversation = ConversationFactory(workspace=workspace, flow=flow, agent=None)
    evening = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)

    due = services.reply_owed(conversation=conversation, now=evening)

    assert due == datetime(2026, 11, 25, 9, 0, 30, tzinfo=UTC)


def test_no_reply_is_owed_while_paused_or_without_an_agent(workspace):
    paused = ConversationFactory(workspace=workspace, ai_paused=True)
    agentless = ConversationFactory(workspace=workspace, agent=None)

    assert services.reply_owed(conversation=paused, now=NOON) is None
    assert services.reply_owed(conversation=agentless, now=NOON) is None
    assert not Conversation.objects.filter(reply_due_at__isnull=False).exists()


def test_seed_001_in_a_flow_conversation_honours_the_flows_quiet_window(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace, reply_delay_seconds=30)
    conversation = ConversationFactory(workspace=workspace, flow=flow, agent=None)
    before = timezone.now()

    data = say(api_client, conversation, "Hi")

    assert data["auto_reply_enqueued"] is True
    conversation.refresh_from_db()
    assert conversation.reply_due_at >= before + timedelta(seconds=30)
