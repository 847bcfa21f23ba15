"""Seed 000 to a text message at the (fake) Twilio, through a real worker on the real
broker, and Twilio's signed status callback back. Needs PostgreSQL."""

import time

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from conversations import tasks
from conversations.models import DeliveryStatus, Message
from core import jobs
from tests.factories import ApiKeyFactory, MessageFlowFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
GENERATE = "/v1/api/conversations/message/generate"


def client_for(api_key) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}",
        HTTP_X_WORKSPACE_ID=str(api_key.workspace_id),
    )
    return client


def wait_until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_autopilot_with_a_delay_sends_once_no_sooner_then_the_callback_delivers(
    celery_worker_process, fake_twilio, client
):
    api_key = ApiKeyFactory()
    flow = MessageFlowFactory(
        workspace=api_key.workspace,
        is_active=True,
        reply_delay_seconds=2,
        initiation_message="See you soon",
    )
    started = time.monotonic()

    body = (
        client_for(api_key)
        .post(
            GENERATE,
            {"flowId": str(flow.pk), "to": "+14155550123", "autopilot": True},
            format="json",
        )
        .json()
    )

    assert body["delivery_status"] == "scheduled"
    assert wait_until(lambda: fake_twilio.messages, 15), "nothing reached Twilio"
    assert time.monotonic() - started >= 2.0
    time.sleep(1.0)  # a second send would show up by now
    assert len(fake_twilio.messages) == 1
    assert fake_twilio.messages[0]["body"] == "See you soon"

    message = Message.objects.get(pk=body["message_id"])
    callback = fake_twilio.requests[-1]["form"]["StatusCallback"]
    assert callback.startswith(settings.PUBLIC_BASE_URL)
    params = {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"}
    response = client.post(
        callback.removeprefix(settings.PUBLIC_BASE_URL),
        params,
        HTTP_X_TWILIO_SIGNATURE=fake_twilio.sign(callback, params),
    )
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == DeliveryStatus.DELIVERED


def test_a_send_committed_while_the_broker_was_down_goes_out_with_the_sweep(
    celery_worker_process, fake_twilio, monkeypatch
):
    api_key = ApiKeyFactory()
    flow = MessageFlowFactory(
        workspace=api_key.workspace, is_active=True, initiation_message="Hello"
    )

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("broker is down")

    with monkeypatch.context() as patch:
        patch.setattr(jobs, "_publish", broker_down)
        body = (
            client_for(api_key)
            .post(
                GENERATE,
                {"flowId": str(flow.pk), "to": "+14155550123", "autopilot": True},
                format="json",
            )
            .json()
        )
        time.sleep(1.0)
        assert fake_twilio.messages == []
        assert Message.objects.get(pk=body["message_id"]).status == DeliveryStatus.SCHEDULED

    tasks.dispatch_due_messages.apply_async()  # what beat runs every 2 s, broker back

    assert wait_until(lambda: fake_twilio.messages, 15), "the sweep did not send it"
    time.sleep(0.5)
    assert len(fake_twilio.messages) == 1
