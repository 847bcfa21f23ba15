"""Outbound webhooks (issue 6): signed per Standard Webhooks, retried, safe."""

import json
import socket
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conversations.events import event_record
from conversations.models import Event, Role
from conversations.services import conversation_create, message_create
from tests.factories import MessageFlowFactory
from tests.fakes.receiver import Answer, webhook_receiver_fixture  # noqa: F401 - a fixture
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@pytest.fixture(autouse=True)
def _private_networks_allowed(settings) -> None:
    """The receiver listens on loopback, which production refuses."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True


def _endpoint(workspace, url: str, **fields) -> WebhookEndpoint:
    return services.webhook_endpoint_create(workspace=workspace, data={"url": url, **fields})


def _delivery(workspace, endpoint: WebhookEndpoint, type: str = "message.created"):
    event = event_record(workspace_id=workspace.pk, type=type, data={"message": {"_id": "m1"}})
    services.webhooks_fan_out(event_id=event.pk, enqueue=False)
    return WebhookDelivery.objects.get(event=event, endpoint=endpoint)


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


# --- Delivery and signature -----------------------------------------------------------


def test_message_created_event_reaches_the_receiver_signed_per_the_specification(
    owner, webhook_receiver, celery_eager, django_capture_on_commit_callbacks
):
    created = owner.client.post(
        "/v1/webhooks",
        {"url": webhook_receiver.url, "eventTypes": ["message.created"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        conversation = conversation_create(workspace=owner.workspace)
        message_create(conversation=conversation, role=Role.USER, text="Is my order ready?")

    [request] = webhook_receiver.requests  # conversation.created is not subscribed
    payload = Webhook(secret).verify(request.body, request.headers)  # independent verifier
    assert payload["type"] == "message.created"
    assert payload["data"]["message"]["text"] == "Is my order ready?"
    event = Event.objects.get(workspace=owner.workspace, type="message.created")
    assert payload["data"]["sequence"] == event.sequence
    assert payload["timestamp"].endswith("Z")
    assert request.headers["content-type"] == "application/json"
    delivery = WebhookDelivery.objects.get(event=event)
    assert request.headers["webhook-id"] == str(delivery.pk)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED

    tampered = request.body.replace(b"ready", b"READY")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(tampered, request.headers)


def test_a_workspace_without_endpoints_enqueues_nothing(
    workspace, monkeypatch, django_capture_on_commit_callbacks
):
    from core import jobs

    def fail(*args, **kwargs):
        raise AssertionError("no endpoint, no task")

    monkeypatch.setattr(jobs, "_publish", fail)
    with django_capture_on_commit_callbacks(execute=True):
        event_record(workspace_id=workspace.pk, type="message.created", data={})
    assert not WebhookDelivery.objects.exists()


def test_a_hipaa_flows_event_carries_no_message_text(workspace, webhook_receiver):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    flow = MessageFlowFactory(workspace=workspace, hipaa_compliance=True)
    conversation = conversation_create(workspace=workspace, flow=flow)
    message_create(conversation=conversation, role=Role.USER, text="My diagnosis is private")
    event = Event.objects.get(workspace=workspace, type="message.created")
    services.webhooks_fan_out(event_id=event.pk, enqueue=False)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
    assert services.webhook_deliver(delivery_id=delivery.pk) == "succeeded"
    [request] = webhook_receiver.requests
    assert b"diagnosis" not in request.body
    message = json.loads(request.body)["data"]["message"]
    assert "text" not in message
    assert message["_id"]
    assert message["status"] is not None


# --- Retries --------------------------------------------------------------------------


def test_a_500_then_a_200_logs_two_attempts_and_delivers_once(owner, webhook_receiver):
    endpoint = _endpoint(owner.workspace, webhook_receiver.url)
    delivery = _delivery(owner.workspace, endpoint)
    webhook_receiver.script(Answer(status=500, body=b"boom"), Answer(status=200, body=b"thanks"))

    assert services.webhook_deliver(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert 3 < (delivery.next_attempt_at - timezone.now()).total_seconds() <= 6  # 5 s ± 20 %
    assert services.webhook_deliver(delivery_id=delivery.pk) is None  # not due yet

    _make_due(delivery)
    assert services.webhook_deliver(delivery_id=delivery.pk) == "succeeded"
    assert services.webhook_deliver(delivery_id=delivery.pk) is None  # settled
    assert len(webhook_receiver.requests) == 2
    assert len({r.headers["webhook-id"] for r in webhook_receiver.requests}) == 1

    answer = owner.client.get(f"/v1/webhooks/{endpoint.pk}/deliveries")
    assert answer.status_code == 200
    [row] = answer.json()["results"]
    assert row["status"] == "succeeded"
    assert row["attempts"] == 2
    assert [a["statusCode"] for a in row["attemptLog"]] == [200, 500]
    assert [a["responseBody"] for a in row["attemptLog"]] == ["thanks", "boom"]
    assert all(isinstance(a["latencyMs"], int) and a["startedAt"] for a in row["attemptLog"])


def test_only_the_first_kilobyte_of_the_answer_is_logged(workspace, webhook_receiver):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    webhook_receiver.script(Answer(status=500, body=b"x" * 5000))
    services.webhook_deliver(delivery_id=delivery.pk)
    assert len(WebhookAttempt.objects.get(delivery=delivery).response_body) == 1024


def test_redirects_are_not_followed(workspace, webhook_receiver):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    webhook_receiver.script(Answer(status=302, headers={"location": "http://127.0.0.1:1/x"}))
    assert services.webhook_deliver(delivery_id=delivery.pk) == "pending"
    assert len(webhook_receiver.requests) == 1


def test_a_connection_error_is_retried(workspace):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint = _endpoint(workspace, f"http://127.0.0.1:{port}/hooks")
    delivery = _delivery(workspace, endpoint)
    assert services.webhook_deliver(delivery_id=delivery.pk) == "pending"
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None
    assert "Connection" in attempt.error


@pytest.mark.parametrize("status_code", [429, 503])
def test_retry_after_is_honoured(workspace, webhook_receiver, status_code):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    webhook_receiver.script(Answer(status=status_code, headers={"retry-after": "120"}))
    before = timezone.now()
    assert services.webhook_deliver(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 119 <= wait <= 125


def test_the_delivery_fails_when_the_next_attempt_would_fall_after_24_hours(
    workspace, webhook_receiver
):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=24), attempts=18
    )
    webhook_receiver.script(Answer(status=500))
    assert services.webhook_deliver(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None


def test_the_retry_schedule_spans_about_a_day():
    schedule = services.retry_schedule()
    assert schedule[:4] == [0.0, 5.0, 15.0, 35.0]
    assert 20 * 3600 < schedule[-1] <= 24 * 3600
    assert len(schedule) == 19


def test_a_410_disables_the_endpoint_at_once(workspace, webhook_receiver):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    other = _delivery(workspace, endpoint, type="conversation.created")
    delivery = _delivery(workspace, endpoint)
    webhook_receiver.script(Answer(status=410))

    assert services.webhook_deliver(delivery_id=delivery.pk) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert endpoint.disabled_reason == "gone"
    disabled = Event.objects.get(workspace=workspace, type="webhook_endpoint.disabled")
    assert disabled.data["webhookId"] == str(endpoint.pk)
    # The endpoint's other deliveries are not attempted any more.
    assert services.webhook_deliver(delivery_id=other.pk) == "failed"
    assert len(webhook_receiver.requests) == 1


def test_an_endpoint_failing_for_5_days_without_a_success_is_disabled_with_an_event(
    workspace, webhook_receiver
):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1)
    )
    webhook_receiver.script(Answer(status=500))
    services.webhook_deliver(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (False, "failing")
    event = Event.objects.get(workspace=workspace, type="webhook_endpoint.disabled")
    assert event.data["reason"] == "failing"


def test_a_success_clears_the_failure_clock(workspace, webhook_receiver):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=4)
    )
    services.webhook_deliver(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert endpoint.last_success_at is not None


def test_a_delivery_is_retried_by_hand(
    owner, webhook_receiver, celery_eager, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(owner.workspace, webhook_receiver.url)
    delivery = _delivery(owner.workspace, endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        answer = owner.client.post(f"/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/retry")
    assert answer.status_code == 202, answer.content
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert len(webhook_receiver.requests) == 1


def test_the_sweep_enqueues_late_deliveries(workspace, webhook_receiver, monkeypatch):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    late = _delivery(workspace, endpoint)
    _delivery(workspace, endpoint, type="conversation.created")  # due now: its task is queued
    WebhookDelivery.objects.filter(pk=late.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    enqueued = []
    monkeypatch.setattr(
        services, "delivery_enqueue", lambda *, delivery_id, at: enqueued.append(delivery_id)
    )
    assert services.webhooks_sweep() == 1
    assert enqueued == [late.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_delivery_make_one_post(workspace, webhook_receiver):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    webhook_receiver.default.delay = 0.3
    barrier = threading.Barrier(2)
    outcomes = []

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(services.webhook_deliver(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [None, "succeeded"]
    assert len(webhook_receiver.requests) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1


# --- Rotation -------------------------------------------------------------------------


def test_after_rotation_both_signatures_are_present_and_valid(owner, webhook_receiver):
    created = owner.client.post("/v1/webhooks", {"url": webhook_receiver.url}, format="json")
    old_secret = created.json()["secret"]
    rotated = owner.client.post(f"/v1/webhooks/{created.json()['_id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret

    endpoint = WebhookEndpoint.objects.get(pk=created.json()["_id"])
    services.webhook_deliver(delivery_id=_delivery(owner.workspace, endpoint).pk)
    [request] = webhook_receiver.requests
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    for secret, one in zip([new_secret, old_secret], signatures, strict=True):
        Webhook(secret).verify(request.body, {**request.headers, "webhook-signature": one})

    # After the 24 hours, only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    services.webhook_deliver(delivery_id=_delivery(owner.workspace, endpoint).pk)
    latest = webhook_receiver.requests[-1]
    assert len(latest.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(latest.body, latest.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(latest.body, latest.headers)


# --- Safety ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://[::1]/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[fd00:ec2::254]/", "metadata"),
        ("https://224.0.0.1/", "multicast"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("http://example.com/hooks", "https"),
        ("https://[2002:7f00:1::1]/", "loopback address inside an IPv6"),  # 6to4 of 127.0.0.1
        ("https://[2002:a9fe:a9fe::1]/", "metadata address inside an IPv6"),  # 169.254.169.254
        ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "IPv6"),  # Teredo of 127.0.0.1
        ("https://[64:ff9b::a9fe:a9fe]/", "metadata address inside an IPv6"),  # NAT64
        ("https://[::127.0.0.1]/", "loopback"),  # IPv4-compatible
        ("https://[2001:db8::1]/", "private"),
        ("https://100.64.0.1/", "non-public"),  # carrier-grade NAT
        ("https://192.0.0.8/", "address"),
        ("https://example.com:0/hooks", "port"),
        ("https://example.com:8443/hooks", "port must be one of 443"),
        ("https://example.com/ho\r\nX-Evil: 1", "control characters"),
        ("https://example.com/a b", "control characters"),
    ],
)
def test_an_endpoint_on_our_own_network_is_refused_when_the_setting_is_off(
    owner, settings, url, reason
):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    answer = owner.client.post("/v1/webhooks", {"url": url}, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "validation_error"
    assert reason in body["errors"]["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_a_port_the_deployment_lists_is_allowed(owner, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_ALLOWED_PORTS = [8443]
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 8443))]
    )

    answer = owner.client.post("/v1/webhooks", {"url": "https://example.com:8443/h"}, format="json")

    assert answer.status_code == 201, answer.json()


def test_a_host_that_resolves_to_loopback_is_refused_again_at_delivery(
    workspace, webhook_receiver, settings
):
    endpoint = _endpoint(workspace, webhook_receiver.url)
    delivery = _delivery(workspace, endpoint)
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.DEBUG = True  # plain http still allowed: the address is what is refused
    settings.WEBHOOKS_ALLOWED_PORTS = [int(webhook_receiver.url.split(":")[2].split("/")[0])]
    assert services.webhook_deliver(delivery_id=delivery.pk) == "pending"
    assert webhook_receiver.requests == []
    assert "loopback" in WebhookAttempt.objects.get(delivery=delivery).error


def test_delivery_connects_to_the_checked_address_with_the_hosts_name(
    workspace, webhook_receiver, monkeypatch
):
    """A rebinding resolver answers the receiver's address once, then an unreachable
    one: the delivery reaches the receiver only if it connects to what was checked."""
    answers = iter(["127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.example":
            host = next(answers, "192.0.2.1")  # TEST-NET-1: nothing answers there
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    endpoint = _endpoint(workspace, f"http://hooks.example:{webhook_receiver.port}/in?a=1")
    assert services.webhook_deliver(delivery_id=_delivery(workspace, endpoint).pk) == ("succeeded")
    [request] = webhook_receiver.requests
    assert request.headers["host"] == f"hooks.example:{webhook_receiver.port}"
    assert request.path == "/in?a=1"


# --- API ------------------------------------------------------------------------------


def test_crud_round_trip_shows_the_secret_only_on_create(owner, webhook_receiver):
    created = owner.client.post(
        "/v1/webhooks",
        {"url": webhook_receiver.url, "description": "CRM", "eventTypes": ["message.created"]},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) >= {"_id", "url", "eventTypes", "enabled", "description", "createdAt"}
    assert body["enabled"] is True
    endpoint_id = body["_id"]

    fetched = owner.client.get(f"/v1/webhooks/{endpoint_id}")
    assert fetched.status_code == 200
    assert "secret" not in fetched.json()
    listed = owner.client.get("/v1/webhooks")
    assert [e["_id"] for e in listed.json()["results"]] == [endpoint_id]
    assert "secret" not in listed.json()["results"][0]

    patched = owner.client.patch(
        f"/v1/webhooks/{endpoint_id}", {"enabled": False, "eventTypes": []}, format="json"
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert patched.json()["disabledReason"] == "client"
    assert patched.json()["eventTypes"] == []

    assert owner.client.delete(f"/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": 12}, "url"),
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://example.com", "enabled": "yes"}, "enabled"),
        ({"url": "https://example.com", "eventTypes": "message.created"}, "eventTypes"),
        ({"url": "https://example.com", "secret": "whsec_mine"}, "secret"),
    ],
)
def test_invalid_endpoints_are_400s_in_the_error_shape(owner, body, field):
    answer = owner.client.post("/v1/webhooks", body, format="json")
    assert answer.status_code == 400
    payload = answer.json()
    assert payload["status"] == "error"
    assert payload["code"] == "validation_error"
    assert payload["data"] is None
    assert field in payload["errors"]


def test_a_patch_to_a_refused_url_is_a_400(owner, webhook_receiver, settings):
    endpoint = _endpoint(owner.workspace, webhook_receiver.url)
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    answer = owner.client.patch(
        f"/v1/webhooks/{endpoint.pk}", {"url": "https://127.0.0.1/x"}, format="json"
    )
    assert answer.status_code == 400
    assert "loopback" in answer.json()["errors"]["url"][0]


def test_the_outsider_gets_404_for_another_workspaces_endpoint(owner, outsider, webhook_receiver):
    endpoint = _endpoint(owner.workspace, webhook_receiver.url)
    delivery = _delivery(owner.workspace, endpoint)
    base = f"/v1/webhooks/{endpoint.pk}"
    client = outsider.client
    answers = [
        client.get(base),
        client.patch(base, {"enabled": False}, format="json"),
        client.delete(base),
        client.post(f"{base}/rotate-secret"),
        client.get(f"{base}/deliveries"),
        client.post(f"{base}/deliveries/{delivery.pk}/retry"),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert all(a.json()["code"] == "not_found" for a in answers)
    assert client.get("/v1/webhooks").json()["results"] == []
    endpoint.refresh_from_db()
    assert endpoint.enabled is True


def test_a_delivery_of_another_endpoint_is_404(owner, webhook_receiver):
    mine = _endpoint(owner.workspace, webhook_receiver.url)
    other = _endpoint(owner.workspace, webhook_receiver.url)
    delivery = _delivery(owner.workspace, other, type="conversation.created")
    answer = owner.client.post(f"/v1/webhooks/{mine.pk}/deliveries/{delivery.pk}/retry")
    assert answer.status_code == 404


def test_the_twilio_status_callback_is_not_taken_for_an_endpoint_id(owner):
    answer = owner.client.get("/v1/webhooks/twilio")
    assert answer.status_code == 404
