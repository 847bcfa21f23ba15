"""Customers texting back: POST /v1/webhooks/twilio/sms, opt-out keywords, the quiet
window, out-of-hours answers and human takeover. Twilio and Claude are local fakes
behind the real SDKs; Celery runs tasks inline; the clock is controlled."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from channels.models import Sender
from conversations import scheduling, tasks
from conversations.models import Contact, Conversation, DeliveryStatus, Event, Message
from tests.factories import MessageFlowFactory

URL = "/v1/webhooks/twilio/sms"
CUSTOMER = "+14155550123"
OUR_NUMBER = "+14155550100"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))  # a Tuesday noon
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def flow(workspace, fake_twilio, fake_anthropic, celery_eager, settings):
    settings.REPLY_SWEEP_GRACE = 0
    sender = Sender.objects.create(
        workspace=workspace, channel="SMS", address=OUR_NUMBER, is_default=True
    )
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        autopilot=True,
        direction="bidirectional",
        sender=sender,
        reply_delay_seconds=30,
        out_of_hours_message="We are closed; we will answer at 9:00.",
    )


@pytest.fixture
def text(client, fake_twilio, django_capture_on_commit_callbacks):
    counter = iter(range(10_000))

    def send(
        body: str, *, sid: str | None = None, to: str = OUR_NUMBER, signed: bool = True
    ) -> object:
        params = {
            "From": CUSTOMER,
            "To": to,
            "Body": body,
            "MessageSid": sid or f"SM{next(counter):032d}",
        }
        signature = (
            fake_twilio.sign(f"{settings.PUBLIC_BASE_URL}{URL}", params) if signed else "bad"
        )
        with django_capture_on_commit_callbacks(execute=True):  # as after a real commit
            return client.post(URL, params, HTTP_X_TWILIO_SIGNATURE=signature)

    return send


def run_due_work(django_capture_on_commit_callbacks) -> None:
    """What beat does every few seconds: owed replies, then due sends."""
    for _ in range(3):  # a reply schedules a send, which commits, which enqueues
        with django_capture_on_commit_callbacks(execute=True):
            tasks.sweep_due_replies()
            for message_id in scheduling.dispatch_due():
                tasks.send_message(message_id)


def sms_sent(fake_twilio) -> list[str]:
    return [m["body"] for m in fake_twilio.messages]


def test_an_inbound_sms_gets_one_ai_reply_after_the_delay(
    flow, text, clock, fake_twilio, fake_anthropic, django_capture_on_commit_callbacks
):
    response = text("Can I move my appointment?")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    assert fake_anthropic.requests == []  # no model call inside the request
    run_due_work(django_capture_on_commit_callbacks)
    assert fake_anthropic.requests == []  # still inside the quiet window

    clock.advance(31)
    run_due_work(django_capture_on_commit_callbacks)

    assert len(fake_anthropic.requests) == 1
    assert sms_sent(fake_twilio) == ["Fake reply to: Can I move my appointment?"]
    assert Event.objects.filter(type="message.received").count() == 1


def test_three_messages_inside_the_delay_get_one_reply_answering_all(
    flow, text, clock, fake_twilio, fake_anthropic, django_capture_on_commit_callbacks
):
    for words in ("Hi", "I need to reschedule", "Thursday works"):
        text(words)
        clock.advance(10)
        run_due_work(django_capture_on_commit_callbacks)

    clock.advance(31)
    run_due_work(django_capture_on_commit_callbacks)

    assert len(fake_anthropic.requests) == 1
    prompt = str(fake_anthropic.requests[0]["json"]["messages"])
    assert all(words in prompt for words in ("Hi", "I need to reschedule", "Thursday works"))
    assert len(fake_twilio.messages) == 1


def test_out_of_hours_messages_get_one_closed_notice_then_the_reply_at_opening(
    flow, text, clock, fake_twilio, fake_anthropic, django_capture_on_commit_callbacks
):
    flow.working_hours_enabled = True
    flow.save()
    clock.now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)

    text("Are you open tomorrow?")
    run_due_work(django_capture_on_commit_callbacks)
    clock.advance(60)
    text("Hello?")
    run_due_work(django_capture_on_commit_callbacks)

    assert sms_sent(fake_twilio) == ["We are closed; we will answer at 9:00."]
    assert fake_anthropic.requests == []

    clock.now = datetime(2026, 11, 25, 9, 0, 31, tzinfo=UTC)
    run_due_work(django_capture_on_commit_callbacks)

    assert len(fake_anthropic.requests) == 1
    prompt = str(fake_anthropic.requests[0]["json"]["messages"])
    assert "Are you open tomorrow?" in prompt
    assert "Hello?" in prompt
    assert len(fake_twilio.messages) == 2


def test_stop_opts_out_cancels_scheduled_messages_and_start_resumes(
    flow, text, clock, fake_twilio, api_client, django_capture_on_commit_callbacks
):
    scheduled = api_client.post(
        "/v1/api/conversations/message/generate",
        {"flowId": str(flow.pk), "to": CUSTOMER, "autopilot": True},
        format="json",
    ).json()

    text("  Stop. ")

    contact = Contact.objects.get(address=CUSTOMER)
    assert contact.opted_out_at is not None
    assert Message.objects.get(pk=scheduled["message_id"]).status == DeliveryStatus.CANCELED
    clock.advance(60)
    run_due_work(django_capture_on_commit_callbacks)
    assert sms_sent(fake_twilio) == [settings.SMS_OPT_OUT_MESSAGE]  # only the confirmation
    refused = api_client.post(
        "/v1/api/conversations/message/generate",
        {"flowId": str(flow.pk), "to": CUSTOMER, "autopilot": True},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "contact_opted_out"

    text("START")

    contact.refresh_from_db()
    assert contact.opted_out_at is None
    assert list(
        Event.objects.filter(type__startswith="contact.")
        .order_by("id")
        .values_list("type", flat=True)
    ) == [
        "contact.opted_out",
        "contact.opted_in",
    ]


@pytest.mark.parametrize("word", ["stop", "STOPALL", "Unsubscribe!", " cancel ", "END", "quit."])
def test_every_carrier_stop_keyword_opts_out(flow, text, word):
    text(word)

    assert Contact.objects.get(address=CUSTOMER).opted_out_at is not None


def test_a_sentence_containing_stop_is_not_an_opt_out(flow, text):
    text("Please don't stop the reminders")

    assert Contact.objects.get(address=CUSTOMER).opted_out_at is None


def test_help_gets_the_workspaces_help_text(
    flow, text, workspace, clock, fake_twilio, django_capture_on_commit_callbacks
):
    workspace.help_text = "Clinic line: call 555-0100. Reply STOP to opt out."
    workspace.save()

    text("HELP")
    run_due_work(django_capture_on_commit_callbacks)

    assert sms_sent(fake_twilio) == ["Clinic line: call 555-0100. Reply STOP to opt out."]


def test_with_twilio_advanced_opt_out_the_service_sends_no_confirmation(
    flow, text, settings, clock, fake_twilio, django_capture_on_commit_callbacks
):
    settings.SMS_OPT_OUT_CONFIRMATIONS = "twilio"

    text("STOP")
    run_due_work(django_capture_on_commit_callbacks)

    assert fake_twilio.messages == []


def test_a_bad_signature_is_403_and_nothing_is_stored(flow, text):
    response = text("hello", signed=False)

    assert response.status_code == 403
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_the_same_message_sid_twice_stores_one_message(flow, text):
    text("hello", sid="SM" + "1" * 32)
    text("hello", sid="SM" + "1" * 32)

    assert Message.objects.filter(role="user").count() == 1


def test_an_unknown_number_is_404_in_the_error_shape(flow, text):
    response = text("hello", to="+14155550999")

    assert response.status_code == 404
    assert response.json()["status"] == "error"
    assert not Message.objects.exists()


def test_a_human_reply_pauses_the_ai_until_resumed(
    flow, text, clock, api_client, fake_twilio, fake_anthropic, django_capture_on_commit_callbacks
):
    text("I want to talk to a person")
    conversation = Conversation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            "/v1/messages",
            {
                "conversation_id": str(conversation.pk),
                "sender_id": "operator-olivia",
                "sender_type": "agent",
                "text": "Hi, Olivia here.",
            },
            format="json",
        )
    run_due_work(django_capture_on_commit_callbacks)
    assert sms_sent(fake_twilio) == ["Hi, Olivia here."]  # delivered over SMS
    conversation.refresh_from_db()
    assert conversation.ai_paused

    text("Thanks Olivia")
    clock.advance(60)
    run_due_work(django_capture_on_commit_callbacks)
    assert fake_anthropic.requests == []

    assert api_client.post(f"/v1/conversations/{conversation.pk}/resume").status_code == 200
    text("One more question")
    clock.advance(31)
    run_due_work(django_capture_on_commit_callbacks)
    assert len(fake_anthropic.requests) == 1
    assert list(
        Event.objects.filter(type__startswith="conversation.p").values_list("type", flat=True)
    ) == ["conversation.paused"]
    assert Event.objects.filter(type="conversation.resumed").count() == 1


def test_pause_and_resume_through_the_api(api_client, workspace):
    conversation = Conversation.objects.create(workspace=workspace)

    paused = api_client.post(f"/v1/conversations/{conversation.pk}/pause").json()
    resumed = api_client.post(f"/v1/conversations/{conversation.pk}/resume").json()

    assert paused["aiPaused"] is True
    assert resumed["aiPaused"] is False


def test_the_takeover_timeout_ends_the_pause(
    flow, text, clock, api_client, fake_anthropic, django_capture_on_commit_callbacks
):
    flow.human_takeover_minutes = 5
    flow.save()
    text("hello")
    conversation = Conversation.objects.get()
    api_client.post(f"/v1/conversations/{conversation.pk}/pause")

    clock.advance(6 * 60)
    text("anyone?")
    clock.advance(31)
    run_due_work(django_capture_on_commit_callbacks)

    assert len(fake_anthropic.requests) == 1


# --- The shared number ----------------------------------------------------------------


def _opened_from_the_shared_number(workspace, fake_twilio, to: str = CUSTOMER):
    """A conversation of `workspace` whose opening SMS went out from the shared number
    (its flow names no sender and the workspace has no default one)."""
    from conversations import delivery
    from conversations.outbound import message_generate

    flow = MessageFlowFactory(
        workspace=workspace, is_active=True, autopilot=True, direction="bidirectional"
    )
    conversation, message = message_generate(
        workspace=workspace, flow_id=flow.pk, to=to, customer_details={}, dynamic={},
        autopilot=True, now=timezone.now(),
    )  # fmt: skip
    assert delivery.deliver(message.pk) == "sent"
    assert fake_twilio.messages[-1]["from"] == settings.TWILIO_FROM_NUMBER
    return conversation


def test_a_reply_to_the_shared_number_reaches_the_workspace_that_wrote_from_it(
    workspace, outsider, fake_twilio, fake_anthropic, celery_eager, text
):
    _opened_from_the_shared_number(outsider.workspace, fake_twilio, to="+14155550177")
    ours = _opened_from_the_shared_number(workspace, fake_twilio)

    response = text("Yes please", to=settings.TWILIO_FROM_NUMBER)

    assert response.status_code == 200
    stored = Message.objects.get(role="user")
    assert stored.conversation_id == ours.pk
    assert stored.workspace_id == workspace.pk


def test_a_reply_to_the_shared_number_from_a_stranger_is_stored_nowhere(
    workspace, fake_twilio, text, caplog
):
    response = text("Who is this?", to=settings.TWILIO_FROM_NUMBER)

    assert response.status_code == 200  # Twilio delivered it; nothing to retry
    assert not Message.objects.exists()
    assert "nothing stored" in caplog.text


def test_the_shared_number_never_routes_to_a_workspace_with_its_own_default_sender(
    workspace, outsider, fake_twilio, text
):
    conversation = _opened_from_the_shared_number(outsider.workspace, fake_twilio)
    Sender.objects.create(
        workspace=outsider.workspace, channel="SMS", address="+14155550188", is_default=True
    )  # from now on that workspace sends from its own number

    text("Hello?", to=settings.TWILIO_FROM_NUMBER)

    assert not conversation.messages.filter(role="user").exists()
