"""The send path: scheduling, claim, checks before sending, email delivery."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from conversations import delivery, scheduling
from conversations.models import Contact, Conversation, DeliveryStatus, Event, Message
from conversations.services import message_create
from tests.factories import MessageFlowFactory


@pytest.fixture(autouse=True)
def _locmem_email(settings) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "console"


@pytest.fixture
def email_flow(workspace):
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        message_channel="Email",
        email_subject_line="Your visit",
        email_signature="The Clinic",
    )


def scheduled_message(flow, *, text: str = "Hello Sam", due_in: float = -1) -> Message:
    contact = Contact.objects.get_or_create(
        workspace=flow.workspace,
        channel=flow.message_channel,
        address="sam@example.com" if flow.message_channel == "Email" else "+14155550123",
    )[0]
    conversation = Conversation.objects.filter(
        flow=flow, contact=contact
    ).first() or Conversation.objects.create(
        workspace=flow.workspace, flow=flow, contact=contact, channel=flow.message_channel
    )
    message = message_create(
        conversation=conversation, role="agent", text=text, status=DeliveryStatus.DRAFT
    )
    return scheduling.message_schedule(
        message=message, send_at=timezone.now() + timedelta(seconds=due_in)
    )


def test_a_due_email_is_sent_once_with_subject_signature_and_threading(email_flow):
    first = scheduled_message(email_flow, text="First")
    second = scheduled_message(email_flow, text="Second")

    assert delivery.deliver(first.pk) == "sent"
    assert delivery.deliver(second.pk) == "sent"
    assert delivery.deliver(second.pk) == "skipped"  # delivered twice, sent once

    assert len(mail.outbox) == 2
    email = mail.outbox[1]
    assert email.subject == "Your visit"
    assert "Second" in email.body
    assert "The Clinic" in email.body
    first.refresh_from_db()
    assert email.extra_headers["In-Reply-To"] == first.provider_message_id
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.reply_to[0].startswith("reply+")
    second.refresh_from_db()
    assert second.status == DeliveryStatus.SENT
    assert Event.objects.filter(type="message.sent").count() == 2


def test_a_message_not_yet_due_is_not_sent(email_flow):
    message = scheduled_message(email_flow, due_in=60)

    assert delivery.deliver(message.pk) == "skipped"
    assert mail.outbox == []


def test_a_deactivated_flow_cancels_the_send(email_flow):
    message = scheduled_message(email_flow)
    email_flow.is_active = False
    email_flow.save()

    assert delivery.deliver(message.pk) == "canceled"
    assert mail.outbox == []
    message.refresh_from_db()
    assert message.status == DeliveryStatus.CANCELED


def test_an_opted_out_contact_gets_nothing(email_flow):
    message = scheduled_message(email_flow)
    Contact.objects.update(opted_out_at=timezone.now())

    assert delivery.deliver(message.pk) == "canceled"
    assert mail.outbox == []


def test_hours_changed_to_closed_defer_the_send_to_the_next_opening(email_flow):
    message = scheduled_message(email_flow)
    now = timezone.now()
    email_flow.working_hours_enabled = True
    email_flow.working_hours_start = (
        (now + timedelta(hours=3)).time().replace(second=0, microsecond=0)
    )
    email_flow.working_hours_end = (
        (now + timedelta(hours=4)).time().replace(second=0, microsecond=0)
    )
    email_flow.save()

    assert delivery.deliver(message.pk) == "deferred"
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED
    assert message.send_at > now + timedelta(hours=2)
    assert mail.outbox == []


def test_a_draft_is_approved_then_cannot_be_approved_again(api_client, email_flow):
    contact = Contact.objects.create(
        workspace=email_flow.workspace, channel="Email", address="a@b.example"
    )
    conversation = Conversation.objects.create(
        workspace=email_flow.workspace, flow=email_flow, contact=contact
    )
    draft = message_create(
        conversation=conversation, role="agent", text="Hi", status=DeliveryStatus.DRAFT
    )
    url = f"/v1/conversations/{conversation.pk}/messages/{draft.pk}"

    approved = api_client.post(f"{url}/send")
    again = api_client.post(f"{url}/send")

    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "scheduled"
    assert approved.json()["sendAt"] is not None
    assert again.status_code == 409


def test_cancel_a_scheduled_message_and_409_once_it_left(api_client, email_flow):
    pending = scheduled_message(email_flow, due_in=3600)
    left = scheduled_message(email_flow, text="gone")
    delivery.deliver(left.pk)
    base = f"/v1/conversations/{pending.conversation_id}/messages"

    canceled = api_client.post(f"{base}/{pending.pk}/cancel")
    too_late = api_client.post(f"{base}/{left.pk}/cancel")

    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert too_late.status_code == 409
    assert delivery.deliver(pending.pk) == "skipped"


def test_messages_list_shows_status_and_send_time(api_client, email_flow):
    message = scheduled_message(email_flow, due_in=600)

    listed = api_client.get(f"/v1/conversations/{message.conversation_id}/messages").json()[
        "results"
    ]

    assert listed[0]["status"] == "scheduled"
    assert listed[0]["sendAt"] is not None


def test_the_sweep_claims_due_messages_once(email_flow):
    due = [scheduled_message(email_flow, text=str(i)) for i in range(3)]
    Message.objects.update(enqueued_at=None)

    first = scheduling.dispatch_due()
    second = scheduling.dispatch_due()

    assert sorted(first) == sorted(str(m.pk) for m in due)
    assert second == []  # leased: a task is on its way


def test_unsubscribe_link_opts_the_contact_out_and_cancels_pending(client, email_flow):
    scheduled_message(email_flow)
    pending = scheduled_message(email_flow, due_in=3600)
    contact = Contact.objects.get()
    from channels.email import unsubscribe_token

    token = unsubscribe_token(contact_id=str(contact.pk), workspace_id=str(contact.workspace_id))

    page = client.get(f"/unsubscribe/{token}")
    done = client.post(f"/unsubscribe/{token}")

    assert page.status_code == 200
    assert done.status_code == 200
    contact.refresh_from_db()
    assert contact.opted_out_at is not None
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.CANCELED
    assert client.post("/unsubscribe/forged").status_code == 404


def test_a_crash_while_sending_fails_the_message_instead_of_leaving_it_sending(
    email_flow, monkeypatch
):
    message = scheduled_message(email_flow)

    def crash(*args: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(delivery, "_send", crash)

    assert delivery.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == DeliveryStatus.FAILED
    assert Event.objects.filter(type="message.failed").count() == 1


def test_an_agent_message_posted_through_seed_002_goes_to_the_customer(api_client, email_flow):
    contact = Contact.objects.create(
        workspace=email_flow.workspace, channel="Email", address="a@b.example"
    )
    conversation = Conversation.objects.create(
        workspace=email_flow.workspace, flow=email_flow, contact=contact, channel="Email"
    )

    body = api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "agent", "content": "Written by our scheduler."},
        format="json",
    ).json()

    assert body["message"]["status"] == "scheduled"
    assert delivery.deliver(body["message"]["_id"]) == "sent"
    assert "Written by our scheduler." in mail.outbox[0].body


def test_each_event_of_a_message_to_the_customer_carries_its_status_at_that_step(
    api_client, email_flow
):
    contact = Contact.objects.create(
        workspace=email_flow.workspace, channel="Email", address="a@b.example"
    )
    conversation = Conversation.objects.create(
        workspace=email_flow.workspace, flow=email_flow, contact=contact, channel="Email"
    )
    body = api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "agent", "content": "Written by our scheduler."},
        format="json",
    ).json()
    delivery.deliver(body["message"]["_id"])

    events = api_client.get("/v1/events", {"conversation": str(conversation.pk)}).json()
    steps = [(e["type"], e["data"]["message"]["status"]) for e in events["results"]]
    assert steps == [
        ("message.created", "draft"),
        ("message.scheduled", "scheduled"),
        ("message.sent", "sent"),
    ]
    listed = api_client.get(f"/v1/conversations/{conversation.pk}/messages").json()
    assert listed["results"][0]["status"] == "sent"
