"""The background reply task: retries transient model errors, records permanent ones."""

import pytest
from django.utils import timezone

from conversations.models import Conversation, Event
from conversations.tasks import generate_reply
from tests.factories import ConversationFactory, MessageFactory
from tests.fakes.anthropic import overloaded


@pytest.fixture
def owed(workspace) -> Conversation:
    conversation = ConversationFactory(workspace=workspace, reply_due_at=timezone.now())
    MessageFactory(conversation=conversation, text="Are you open on Sunday?")
    return conversation


def test_an_overload_is_retried_and_then_the_reply_is_stored(owed, fake_anthropic, celery_eager):
    fake_anthropic.enqueue(**vars(overloaded()))

    generate_reply.apply(args=[str(owed.pk)], throw=False)

    assert (
        owed.messages.filter(role="agent").get().content == "Fake reply to: Are you open on Sunday?"
    )
    assert len(fake_anthropic.requests) == 2
    owed.refresh_from_db()
    assert owed.reply_due_at is None
    assert owed.reply_started_at is None


def test_a_refusal_is_recorded_as_reply_failed_and_not_retried(owed, fake_anthropic, celery_eager):
    fake_anthropic.enqueue(
        status=400,
        body={"type": "error", "error": {"type": "invalid_request_error", "message": "bad prompt"}},
    )

    generate_reply.apply(args=[str(owed.pk)], throw=False)

    failed = Event.objects.get(type="reply.failed")
    assert failed.data["error"] == "bad prompt"
    assert len(fake_anthropic.requests) == 1
    owed.refresh_from_db()
    assert owed.reply_due_at is None
    assert owed.last_reply_error == "bad prompt"


def test_transient_error_on_the_last_retry_fails_the_reply(owed, fake_anthropic, settings):
    settings.LLM_TASK_MAX_RETRIES = 2
    fake_anthropic.enqueue(**vars(overloaded()))

    generate_reply.apply(args=[str(owed.pk)], retries=2, throw=False)

    assert len(fake_anthropic.requests) == 1
    assert Event.objects.get(type="reply.failed").data["error"] == "Overloaded"
    assert not owed.messages.filter(role="agent").exists()
    owed.refresh_from_db()
    assert owed.reply_due_at is None
    assert owed.reply_started_at is None


def test_running_the_task_twice_replies_once(owed, celery_eager):
    generate_reply.apply(args=[str(owed.pk)], throw=False)
    generate_reply.apply(args=[str(owed.pk)], throw=False)

    assert owed.messages.filter(role="agent").count() == 1


def test_a_deleted_conversation_is_skipped_quietly(owed, celery_eager):
    conversation_id = str(owed.pk)
    owed.delete()

    result = generate_reply.apply(args=[conversation_id])

    assert result.successful()


def test_an_owed_reply_whose_agent_was_deleted_fails_once_instead_of_forever(owed, celery_eager):
    Conversation.objects.filter(pk=owed.pk).update(agent=None)

    generate_reply.apply(args=[str(owed.pk)])

    owed.refresh_from_db()
    assert owed.reply_due_at is None
    assert Event.objects.filter(type="reply.failed").count() == 1


def test_an_unexpected_error_fails_the_owed_reply_once(owed, monkeypatch):
    from conversations import replies

    def crash(conversation: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(replies, "prompt_for", crash)

    generate_reply.apply(args=[str(owed.pk)])

    owed.refresh_from_db()
    assert owed.reply_due_at is None
    assert owed.reply_started_at is None
    assert Event.objects.get(type="reply.failed").data["error"] == "Internal error: RuntimeError"


def test_a_paused_conversation_gets_no_reply_from_the_task(owed, fake_anthropic):
    Conversation.objects.filter(pk=owed.pk).update(ai_paused=True)

    generate_reply.apply(args=[str(owed.pk)])

    assert fake_anthropic.requests == []
    owed.refresh_from_db()
    assert owed.reply_due_at is None
