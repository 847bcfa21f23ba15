"""Bad input is a 4xx in the error shape and changes nothing: oversized bodies, deep or
unstorable JSON, forms that are not Twilio's."""

import json

import pytest

from conversations.models import Conversation, Message


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == code
    assert body["data"] is None


SEND = {"sender_id": "u1", "sender_type": "user", "text": "hi", "auto_reply": False}


def test_a_body_over_the_limit_is_413_before_authentication(client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = client.post(
        "/v1/messages", json.dumps({**SEND, "text": "x" * 2000}), content_type="application/json"
    )
    assert_error(response, 413, "payload_too_large")


def test_a_body_over_the_limit_is_413_for_a_valid_key_too(api_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = api_client.post("/v1/messages", {**SEND, "text": "x" * 2000}, format="json")
    assert_error(response, 413, "payload_too_large")
    assert not Message.objects.exists()


def test_json_nested_a_thousand_deep_is_a_400(api_client):
    deep = "[" * 1000 + "]" * 1000
    body = '{"sender_id": "u1", "sender_type": "user", "text": "hi", "metadata": {"a": ' + deep
    response = api_client.post("/v1/messages", body + "}}", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_json_nested_past_the_depth_limit_is_a_400_naming_where(api_client):
    nested: dict = {}
    for _ in range(40):
        nested = {"n": nested}
    response = api_client.post("/v1/messages", {**SEND, "metadata": nested}, format="json")
    assert_error(response, 400, "parse_error")
    assert "metadata" in response.json()["message"]


@pytest.mark.parametrize(
    "raw",
    [
        '"metadata": {"note": "a\\u0000b"}',
        '"metadata": {"a\\u0000": 1}',
        '"metadata": {"note": "\\ud800"}',
        '"text": "hi\\u0000"',
    ],
    ids=["nul-value", "nul-key", "lone-surrogate", "nul-text"],
)
def test_unstorable_text_anywhere_in_json_is_a_400_and_nothing_is_stored(api_client, raw):
    body = '{"sender_id": "u1", "sender_type": "user", "auto_reply": false, ' + raw
    if '"text"' not in raw:
        body += ', "text": "hi"'
    response = api_client.post("/v1/messages", body + "}", content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert not Conversation.objects.exists()


def test_nan_is_not_json(api_client):
    body = '{"sender_id": "u1", "sender_type": "user", "text": "hi", "metadata": {"x": NaN}}'
    response = api_client.post("/v1/messages", body, content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.parametrize("path", ["/v1/webhooks/twilio/sms", "/v1/webhooks/twilio/status"])
def test_a_multipart_body_without_a_boundary_on_a_twilio_webhook_is_refused(client, path):
    response = client.generic(
        "POST",
        path,
        b"--x\r\nContent-Disposition: form-data; name=From\r\n\r\n+1\r\n--x--",
        content_type="multipart/form-data",
        HTTP_X_TWILIO_SIGNATURE="anything",
    )
    assert_error(response, 403, "forbidden")


def test_an_overlong_message_sid_is_a_400(client, fake_twilio, settings, workspace):
    from channels.models import Sender

    Sender.objects.create(workspace=workspace, channel="SMS", address="+14155550100")
    params = {"MessageSid": "SM" + "a" * 300, "From": "+14155550123", "To": "+14155550100"}
    params["Body"] = "hi"
    url = f"{settings.PUBLIC_BASE_URL}/v1/webhooks/twilio/sms"
    response = client.post(
        "/v1/webhooks/twilio/sms", params, HTTP_X_TWILIO_SIGNATURE=fake_twilio.sign(url, params)
    )
    assert_error(response, 400, "validation_error")
    assert not Message.objects.exists()


FLOW = "/v1/api/message-flows"


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "posix/Europe/Paris"])
def test_only_iana_zones_are_working_hours_zones(api_client, agent, zone):
    from tests.flows.test_flows_api import seed_request

    payload = seed_request(agent.pk)
    payload["settings"]["responseSettings"]["timezone"] = zone

    response = api_client.post(FLOW, payload, format="json")

    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize("days", [[1, 1], list(range(1, 8)) * 300, [0], [8]])
def test_working_days_are_unique_weekdays(api_client, agent, days):
    from tests.flows.test_flows_api import seed_request

    payload = seed_request(agent.pk)
    payload["settings"]["responseSettings"]["days"] = days

    response = api_client.post(FLOW, payload, format="json")

    assert_error(response, 400, "validation_error")


@pytest.mark.parametrize("address", ["a@localhost", "a@printer.local", "a@[127.0.0.1]", "a@b"])
def test_non_routable_email_addresses_are_refused(api_client, address):
    response = api_client.post(
        "/v1/api/senders", {"channel": "Email", "address": address}, format="json"
    )
    assert_error(response, 400, "validation_error")
