"""The SMS layer through the real twilio SDK, against a local fake of Twilio's API."""

import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest

from channels import sms
from channels.errors import PermanentError, TransientError, UnknownOutcomeError
from tests.fakes.twilio import (
    FakeTwilio,
    fake_twilio,  # noqa: F401 - a fixture
    twilio_error,
)

TO = "+14155550123"
FROM = "+15005550006"
SERVICE = "MG" + "0" * 32
CALLBACK = "https://app.example.com/v1/webhooks/twilio/status"
WEBHOOK_URL = "https://app.example.com/v1/webhooks/twilio/status"


def _sms(**overrides: object) -> sms.OutboundSms:
    fields: dict = {
        "to": TO,
        "body": "Hello from the fake",
        "from_number": FROM,
        "status_callback": CALLBACK,
        "validity_period": 600,
    }
    fields.update(overrides)
    return sms.OutboundSms(**fields)


@pytest.fixture
def twilio_api(request: pytest.FixtureRequest) -> FakeTwilio:
    """fake_twilio under another name: a parameter named like the import would shadow it."""
    return request.getfixturevalue("fake_twilio")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_send_from_a_number_posts_one_message_and_returns_its_sid(
    twilio_api: FakeTwilio,
) -> None:
    result = sms.get_sms_backend().send(_sms())

    assert len(twilio_api.requests) == 1
    request = twilio_api.requests[0]
    assert request["method"] == "POST"
    assert request["path"] == f"/2010-04-01/Accounts/{twilio_api.account_sid}/Messages.json"
    assert request["form"] == {
        "To": TO,
        "From": FROM,
        "Body": "Hello from the fake",
        "StatusCallback": CALLBACK,
        "ValidityPeriod": "600",
    }
    assert result.provider_message_id == twilio_api.messages[0]["sid"]
    assert result.provider_message_id.startswith("SM")
    assert len(result.provider_message_id) == 34
    assert result.status == "queued"


def test_send_through_a_messaging_service_sends_its_sid_and_no_from(
    twilio_api: FakeTwilio,
) -> None:
    sms.get_sms_backend().send(_sms(messaging_service_sid=SERVICE))

    form = twilio_api.requests[0]["form"]
    assert form["MessagingServiceSid"] == SERVICE
    assert "From" not in form


def test_unsubscribed_recipient_is_a_permanent_opt_out(twilio_api: FakeTwilio) -> None:
    twilio_api.enqueue(
        status=400, body=twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    )

    with pytest.raises(PermanentError) as caught:
        sms.get_sms_backend().send(_sms())

    assert caught.value.code == "21610"
    assert sms.is_opted_out(caught.value) is True
    assert "unsubscribed" in caught.value.message
    assert twilio_api.messages == []


def test_invalid_number_is_permanent_but_not_an_opt_out(twilio_api: FakeTwilio) -> None:
    twilio_api.enqueue(status=400, body=twilio_error(400, 21211, "Invalid 'To' Phone Number"))

    with pytest.raises(PermanentError) as caught:
        sms.get_sms_backend().send(_sms())

    assert caught.value.code == "21211"
    assert sms.is_opted_out(caught.value) is False


def test_rate_limiting_is_transient(twilio_api: FakeTwilio) -> None:
    twilio_api.enqueue(status=429, body=twilio_error(429, 20429, "Too Many Requests"))

    with pytest.raises(TransientError):
        sms.get_sms_backend().send(_sms())


def test_wrong_credentials_are_permanent(twilio_api: FakeTwilio, settings) -> None:
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    with pytest.raises(PermanentError) as caught:
        sms.get_sms_backend().send(_sms())

    assert caught.value.code == "20003"


def test_connection_refused_is_transient(twilio_api: FakeTwilio, settings) -> None:
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{_closed_port()}"

    with pytest.raises(TransientError):
        sms.get_sms_backend().send(_sms())


def test_read_timeout_after_twilio_accepted_is_unknown_and_find_sent_finds_it(
    twilio_api: FakeTwilio, settings
) -> None:
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    twilio_api.enqueue(delay=2.0)
    started = datetime.now(UTC)
    backend = sms.get_sms_backend()

    with pytest.raises(UnknownOutcomeError):
        backend.send(_sms())

    found = backend.find_sent(sms.OutboundSms(to=TO, body="", from_number=FROM), sent_after=started)
    assert found == twilio_api.messages[0]["sid"]
    listing = twilio_api.requests[-1]
    assert listing["method"] == "GET"
    assert listing["query"]["To"] == TO
    assert listing["query"]["From"] == FROM
    assert "DateSent>" not in listing["query"]  # a still-queued message has no date_sent


def test_connection_dropped_after_twilio_accepted_is_unknown(twilio_api: FakeTwilio) -> None:
    twilio_api.enqueue(drop_connection=True)

    with pytest.raises(UnknownOutcomeError):
        sms.get_sms_backend().send(_sms())

    assert len(twilio_api.messages) == 1


def test_server_error_is_unknown_outcome(twilio_api: FakeTwilio) -> None:
    twilio_api.enqueue(status=500, body=twilio_error(500, 20500, "Internal Server Error"))

    with pytest.raises(UnknownOutcomeError):
        sms.get_sms_backend().send(_sms())


def test_find_sent_returns_none_when_nothing_was_sent(twilio_api: FakeTwilio) -> None:
    sms.get_sms_backend().send(_sms(to="+14155550999"))

    found = sms.get_sms_backend().find_sent(
        sms.OutboundSms(to=TO, body="", from_number=FROM), sent_after=datetime.now(UTC)
    )

    assert found is None


def test_find_sent_ignores_messages_sent_before_the_cut_off(twilio_api: FakeTwilio) -> None:
    sms.get_sms_backend().send(_sms())

    found = sms.get_sms_backend().find_sent(
        sms.OutboundSms(to=TO, body="", from_number=FROM),
        sent_after=datetime.now(UTC) + timedelta(seconds=2),
    )

    assert found is None


def test_find_sent_through_a_messaging_service_matches_recipient_and_time_only(
    twilio_api: FakeTwilio,
) -> None:
    started = datetime.now(UTC)
    result = sms.get_sms_backend().send(_sms(messaging_service_sid=SERVICE))

    found = sms.get_sms_backend().find_sent(
        sms.OutboundSms(to=TO, body="", messaging_service_sid=SERVICE), sent_after=started
    )

    assert found == result.provider_message_id
    assert "From" not in twilio_api.requests[-1]["query"]


def test_console_backend_is_chosen_without_a_twilio_account(settings) -> None:
    settings.SMS_BACKEND = ""
    settings.TWILIO_ACCOUNT_SID = ""

    assert isinstance(sms.get_sms_backend(), sms.ConsoleBackend)


def test_twilio_backend_is_chosen_with_a_twilio_account(settings) -> None:
    settings.SMS_BACKEND = ""
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token"

    assert isinstance(sms.get_sms_backend(), sms.TwilioBackend)


def test_sms_backend_console_forces_the_console(settings) -> None:
    settings.SMS_BACKEND = "console"
    settings.TWILIO_ACCOUNT_SID = "AC" + "1" * 32
    settings.TWILIO_AUTH_TOKEN = "token"

    assert isinstance(sms.get_sms_backend(), sms.ConsoleBackend)


def test_console_backend_logs_the_sms_and_finds_nothing(caplog: pytest.LogCaptureFixture) -> None:
    backend = sms.ConsoleBackend()

    with caplog.at_level(logging.INFO, logger="channels.sms"):
        result = backend.send(_sms(body="x" * 200))

    assert result.status == "sent"
    assert result.provider_message_id.startswith("console-")
    assert TO in caplog.text
    assert "x" * 160 in caplog.text
    assert "x" * 161 not in caplog.text
    assert (
        backend.find_sent(
            sms.OutboundSms(to=TO, body="", from_number=FROM), sent_after=datetime.now(UTC)
        )
        is None
    )


def test_signature_from_the_fake_is_valid(twilio_api: FakeTwilio) -> None:
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}

    assert sms.twilio_signature_valid(WEBHOOK_URL, params, twilio_api.sign(WEBHOOK_URL, params))


def test_signature_is_invalid_for_a_tampered_param(twilio_api: FakeTwilio) -> None:
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    signature = twilio_api.sign(WEBHOOK_URL, params)

    tampered = {**params, "MessageStatus": "failed"}
    assert not sms.twilio_signature_valid(WEBHOOK_URL, tampered, signature)


def test_signature_is_invalid_without_an_auth_token(twilio_api: FakeTwilio, settings) -> None:
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered"}
    signature = twilio_api.sign(WEBHOOK_URL, params)
    settings.TWILIO_AUTH_TOKEN = ""

    assert not sms.twilio_signature_valid(WEBHOOK_URL, params, signature)


def test_find_sent_matches_the_body_and_skips_messages_known_to_be_others(
    twilio_api: FakeTwilio,
) -> None:
    started = datetime.now(UTC)
    backend = sms.get_sms_backend()
    first = backend.send(_sms(body="Your code is 1234"))
    second = backend.send(_sms(body="Your code is 1234"))

    other_body = backend.find_sent(_sms(body="Hello"), sent_after=started)
    not_the_known_one = backend.find_sent(
        _sms(body="Your code is 1234"),
        sent_after=started,
        exclude=frozenset({second.provider_message_id}),
    )

    assert other_body is None
    assert not_the_known_one == first.provider_message_id
