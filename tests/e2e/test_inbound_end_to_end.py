"""A customer's SMS, through Twilio's signed webhook on a live server, answered by the
agent through a real worker after the flow's delay. Needs PostgreSQL."""

import time
import urllib.parse
import urllib.request

import pytest
from django.conf import settings

from channels.models import Sender
from tests.factories import MessageFlowFactory, WorkspaceFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_an_inbound_sms_is_answered_once_after_the_delay(
    live_server, celery_worker_process, fake_twilio, fake_anthropic, monkeypatch
):
    # Twilio signs the public URL; here the live server is the public address.
    monkeypatch.setattr(settings, "PUBLIC_BASE_URL", live_server.url)
    workspace = WorkspaceFactory()
    sender = Sender.objects.create(
        workspace=workspace, channel="SMS", address="+14155550100", is_default=True
    )
    MessageFlowFactory(
        workspace=workspace, is_active=True, autopilot=True, sender=sender, reply_delay_seconds=1
    )
    params = {
        "From": "+14155550123",
        "To": "+14155550100",
        "Body": "Do you have a slot on Friday?",
        "MessageSid": "SM" + "2" * 32,
    }
    url = f"{live_server.url}/v1/webhooks/twilio/sms"
    request = urllib.request.Request(  # noqa: S310 - the live test server on loopback
        url,
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": fake_twilio.sign(url, params)},
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert b"<Response></Response>" in response.read()

    deadline = time.monotonic() + 20
    while not fake_twilio.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake_twilio.messages, "no SMS back"
    assert time.monotonic() - started >= 1.0
    time.sleep(1.0)
    assert len(fake_anthropic.requests) == 1
    assert [m["body"] for m in fake_twilio.messages] == [
        "Fake reply to: Do you have a slot on Friday?"
    ]
    assert fake_twilio.messages[0]["to"] == "+14155550123"
