"""SMS through the real twilio SDK against the local fake Twilio."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conversations import delivery, scheduling
from conversations.models import Contact, Conversation, DeliveryStatus, Event
from conversations.services import message_create
from tests.factories import MessageFlowFactory
from tests.fakes.twilio import twilio_error

STATUS_URL = "/v1/webhooks/twilio/status"


@pytest.fixture
def sms_flow(workspace):
    return MessageFlowFactory(workspace=workspace, is_active=True, message_channel="SMS")


def due_sms(flow, text: str = "Your visit is tomorrow", send_at: datetime | None = None):
    contact = Contact.objects.get_or_create(
        workspace=flow.workspace, channel="SMS", address="+14155550123"
    )[0]
    conversation = Conversation.objects.create(
        workspace=flow.workspace, flow=flow, contact=contact, channel="SMS"
    )
    message = message_create(
        conversation=conversation, role="agent", text=text, status=DeliveryStatus.DRAFT
    )
    return scheduling.message_schedule(message=message, send_at=send_at or timezone.now())


def test_a_due_sms_goes_to_twilio_once_with_callback_and_validity(sms_flow, fake_twilio, settings):
    message = due_sms(sms_flow)

    assert delivery.deliver(message.pk) == "sent"
    assert delivery.deliver(message.pk) == "skipped"

    assert len(fake_twilio.messages) == 1
    sent = fake_twilio.requests[-1]["form"]
    assert sent["To"] == "+14155550123"
    assert sent["From"] == "+15005550006"
    assert sent["Body"] == "Your visit is tomorrow"
    assert sent["StatusCallback"] == f"{settings.PUBLIC_BASE_URL}{STATUS_URL}?message={message.pk}"
    assert 60 <= int(sent["ValidityPeriod"]) <= 36000
    message.refresh_from_db()
    assert message.status == DeliveryStatus.QUEUED
    assert message.provider_message_id.startswith("SM")


def test_the_flows_messaging_service_is_used(sms_flow, fake_twilio, api_client):
    fake_twilio.numbers.add("+14155550100")
    fake_twilio.services.add("MG" + "a" * 32)
    sender = api_client.post(
        "/v1/api/senders",
        {"channel": "SMS", "address": "+14155550100", "messagingServiceSid": "MG" + "a" * 32},
        format="json",
    ).json()
    api_client.patch(
        f"/v1/api/message-flows/{sms_flow.pk}", {"sender": sender["_id"]}, format="json"
    )

    delivery.deliver(due_sms(sms_flow).pk)

    sent = fake_twilio.requests[-1]["form"]
    assert sent["MessagingServiceSid"] == "MG" + "a" * 32
    assert "From" not in sent


def test_21610_fails_the_message_and_opts_the_contact_out(sms_flow, fake_twilio):
    fake_twilio.enqueue(
        status=400, body=twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    )
    message = due_sms(sms_flow)

    assert delivery.deliver(message.pk) == "failed"

    message.refresh_from_db()
    assert message.status == DeliveryStatus.FAILED
    assert message.error_code == "21610"
    assert Contact.objects.get().opted_out_at is not None
    assert Event.objects.filter(type="message.failed").count() == 1


def test_a_rate_limit_is_retried_later_not_failed(sms_flow, fake_twilio):
    fake_twilio.enqueue(status=429, body=twilio_error(429, 20429, "Too Many Requests"))
    message = due_sms(sms_flow)

    assert delivery.deliver(message.pk) == "retrying"

    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED
    assert message.send_at > timezone.now()
    assert fake_twilio.messages == []


def test_a_5xx_after_twilio_took_the_message_is_not_sent_again(sms_flow, fake_twilio):
    fake_twilio.enqueue(status=201, drop_connection=True)  # accepted, then the answer is lost
    message = due_sms(sms_flow)

    outcome = delivery.deliver(message.pk)

    assert outcome == "sent"
    assert len(fake_twilio.messages) == 1
    message.refresh_from_db()
    assert message.provider_message_id == fake_twilio.messages[0]["sid"]


def test_retries_stop_at_the_limit_with_a_failed_event(sms_flow, fake_twilio, settings):
    """A rate error never fails a message (it slows the sender down: test_throughput);
    Twilio being unreachable does, after DELIVERY_MAX_ATTEMPTS."""
    from channels import sms

    settings.DELIVERY_MAX_ATTEMPTS = 1
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens: refused
    sms._twilio_client.cache_clear()
    message = due_sms(sms_flow)

    assert delivery.deliver(message.pk) == "retrying"

    message.refresh_from_db()
    assert message.status == DeliveryStatus.FAILED
    assert Event.objects.filter(type="message.failed").exists()


def test_a_signed_status_callback_moves_the_status_forward_only(
    sms_flow, fake_twilio, client, settings
):
    message = due_sms(sms_flow)
    delivery.deliver(message.pk)
    message.refresh_from_db()
    path = f"{STATUS_URL}?message={message.pk}"
    url = f"{settings.PUBLIC_BASE_URL}{path}"

    def callback(status: str, **extra: str) -> int:
        params = {"MessageSid": message.provider_message_id, "MessageStatus": status, **extra}
        return client.post(
            path, params, HTTP_X_TWILIO_SIGNATURE=fake_twilio.sign(url, params)
        ).status_code

    assert callback("delivered") == 204
    assert callback("sent") == 204  # late: ignored
    message.refresh_from_db()
    assert message.status == DeliveryStatus.DELIVERED
    assert Event.objects.filter(type="message.delivered").count() == 1


def test_a_status_callback_reaches_only_the_message_its_url_names(
    sms_flow, fake_twilio, client, settings, outsider
):
    """Provider ids are unique per workspace: another workspace's row with the same id
    (however it came to be) is never touched by this message's callback."""
    message = due_sms(sms_flow)
    delivery.deliver(message.pk)
    message.refresh_from_db()
    other_flow = MessageFlowFactory(workspace=outsider.workspace, message_channel="SMS")
    other = due_sms(other_flow, text="Theirs")
    type(other).objects.filter(pk=other.pk).update(
        provider_message_id=message.provider_message_id, status=DeliveryStatus.QUEUED
    )
    path = f"{STATUS_URL}?message={message.pk}"
    params = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"}
    signature = fake_twilio.sign(f"{settings.PUBLIC_BASE_URL}{path}", params)

    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204

    message.refresh_from_db()
    other.refresh_from_db()
    assert message.status == DeliveryStatus.DELIVERED
    assert other.status == DeliveryStatus.QUEUED
    # Without the message in the URL (an older callback), an ambiguous id moves nothing.
    unscoped = {"MessageSid": message.provider_message_id, "MessageStatus": "failed"}
    signature = fake_twilio.sign(f"{settings.PUBLIC_BASE_URL}{STATUS_URL}", unscoped)
    assert client.post(STATUS_URL, unscoped, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204
    other.refresh_from_db()
    assert other.status == DeliveryStatus.QUEUED


def test_an_unsigned_status_callback_is_403_and_changes_nothing(sms_flow, fake_twilio, client):
    message = due_sms(sms_flow)
    delivery.deliver(message.pk)
    message.refresh_from_db()

    response = client.post(
        STATUS_URL,
        {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"},
        HTTP_X_TWILIO_SIGNATURE="forged",
    )

    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == DeliveryStatus.QUEUED


def test_outside_working_hours_nothing_is_sent_before_the_opening(
    sms_flow, fake_twilio, monkeypatch
):
    clock = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # after 17:00
    monkeypatch.setattr(timezone, "now", lambda: clock)
    sms_flow.working_hours_enabled = True
    sms_flow.save()
    message = due_sms(sms_flow, send_at=scheduling.send_time(sms_flow, clock))
    assert message.send_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    assert scheduling.dispatch_due() == []
    assert delivery.deliver(message.pk) == "skipped"

    clock = datetime(2026, 11, 24, 9, 0, 1, tzinfo=UTC)
    assert scheduling.dispatch_due() == [str(message.pk)]
    assert delivery.deliver(message.pk) == "sent"
    assert len(fake_twilio.messages) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_message_send_it_once(fake_twilio, workspace):
    flow = MessageFlowFactory(workspace=workspace, is_active=True, message_channel="SMS")
    message = due_sms(flow)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        outcomes.append(delivery.deliver(message.pk))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert len(fake_twilio.messages) == 1


def test_send_time_is_after_the_delay_and_inside_the_hours(sms_flow):
    sms_flow.reply_delay_seconds = 120
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    assert scheduling.send_time(sms_flow, now) == now + timedelta(seconds=120)


def test_a_number_the_carrier_refuses_fails_the_message_with_its_code_and_reason(
    sms_flow, fake_twilio
):
    fake_twilio.enqueue(status=400, body=twilio_error(400, 21211, "Invalid 'To' Phone Number"))
    contact = Contact.objects.create(
        workspace=sms_flow.workspace, channel="SMS", address="+1234567890"
    )
    conversation = Conversation.objects.create(
        workspace=sms_flow.workspace, flow=sms_flow, contact=contact, channel="SMS"
    )
    message = message_create(
        conversation=conversation, role="agent", text="Hello", status=DeliveryStatus.DRAFT
    )
    scheduling.message_schedule(message=message, send_at=timezone.now())

    assert delivery.deliver(message.pk) == "failed"

    message.refresh_from_db()
    assert (message.status, message.error_code) == (DeliveryStatus.FAILED, "21211")
    assert "Invalid 'To' Phone Number" in message.error_message
    failed = Event.objects.get(type="message.failed").data["message"]
    assert failed["errorCode"] == "21211"
    assert "Invalid 'To' Phone Number" in failed["error"]
