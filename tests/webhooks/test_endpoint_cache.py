"""Whether a workspace has an endpoint, asked after every event, is answered from the
shared cache; every change to an endpoint, through the API, the admin or the ORM, makes
every process ask the database again."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.events import event_record
from core import jobs
from webhooks import services
from webhooks.models import WebhookEndpoint

URL = "https://hooks.example.com/in"


@pytest.fixture
def fan_outs(monkeypatch) -> list[list]:
    """The fan-out tasks enqueued (nothing reaches a broker)."""
    enqueued: list[list] = []

    def record(name: str, args: list, **options: object) -> bool:
        if name == "webhooks.fan_out":
            enqueued.append(args)
        return True

    monkeypatch.setattr(jobs, "enqueue", record)
    return enqueued


def _record_event(workspace, django_capture_on_commit_callbacks) -> list[str]:
    """Records an event, runs what follows its commit, returns the endpoint queries."""
    with CaptureQueriesContext(connection) as queries:
        with django_capture_on_commit_callbacks(execute=True):
            event_record(workspace_id=workspace.pk, type="message.created", data={})
    return [q["sql"] for q in queries.captured_queries if "webhooks_webhookendpoint" in q["sql"]]


def test_a_workspace_without_endpoints_is_asked_about_once(
    workspace, fan_outs, django_capture_on_commit_callbacks
):
    assert _record_event(workspace, django_capture_on_commit_callbacks)

    assert _record_event(workspace, django_capture_on_commit_callbacks) == []
    assert fan_outs == []


def test_an_endpoint_created_after_a_cached_no_gets_the_next_event(
    workspace, fan_outs, django_capture_on_commit_callbacks
):
    _record_event(workspace, django_capture_on_commit_callbacks)  # "no" is cached

    services.webhook_endpoint_create(workspace=workspace, data={"url": URL})
    _record_event(workspace, django_capture_on_commit_callbacks)

    assert len(fan_outs) == 1


def test_an_endpoint_saved_outside_the_services_is_seen_too(
    workspace, fan_outs, django_capture_on_commit_callbacks
):
    """The admin saves the model itself."""
    _record_event(workspace, django_capture_on_commit_callbacks)

    WebhookEndpoint.objects.create(workspace=workspace, url=URL, secret="whsec_x")
    _record_event(workspace, django_capture_on_commit_callbacks)

    assert len(fan_outs) == 1


def test_disabling_or_deleting_the_endpoint_stops_the_fan_out(
    owner, fan_outs, django_capture_on_commit_callbacks
):
    endpoint = services.webhook_endpoint_create(workspace=owner.workspace, data={"url": URL})
    _record_event(owner.workspace, django_capture_on_commit_callbacks)
    assert len(fan_outs) == 1

    services.webhook_endpoint_update(endpoint=endpoint, data={"enabled": False})
    _record_event(owner.workspace, django_capture_on_commit_callbacks)
    assert len(fan_outs) == 1

    services.webhook_endpoint_update(endpoint=endpoint, data={"enabled": True})
    _record_event(owner.workspace, django_capture_on_commit_callbacks)
    assert len(fan_outs) == 2

    assert owner.client.delete(f"/v1/webhooks/{endpoint.pk}").status_code == 204
    _record_event(owner.workspace, django_capture_on_commit_callbacks)
    assert len(fan_outs) == 2


def test_an_answer_read_before_a_change_is_not_cached_after_it(workspace, monkeypatch):
    """A process that read "no endpoint" just before another created one must not store
    that answer once the change has been announced."""
    manager = WebhookEndpoint.objects

    class SlowRead:
        def filter(self, **lookups: object) -> "SlowRead":
            self.lookups = lookups
            return self

        def exists(self) -> bool:
            found = manager.filter(**self.lookups).exists()
            manager.create(workspace=workspace, url=URL, secret="whsec_x")  # meanwhile
            return found

    monkeypatch.setattr(WebhookEndpoint, "objects", SlowRead())
    assert services.workspace_has_endpoint(workspace.pk) is False
    monkeypatch.undo()

    assert services.workspace_has_endpoint(workspace.pk) is True


def test_with_the_cache_down_the_database_answers(workspace, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    assert services.workspace_has_endpoint(workspace.pk) is False
    WebhookEndpoint.objects.create(workspace=workspace, url=URL, secret="whsec_x")
    assert services.workspace_has_endpoint(workspace.pk) is True


def _send(client, conversation) -> None:
    body = {
        "conversation_id": str(conversation.pk),
        "sender_id": "customer-1",
        "sender_type": "user",
        "text": "Hello",
        "auto_reply": False,
    }
    assert client.post("/v1/messages", body, format="json").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_an_api_request_asks_with_its_rate_limit_and_sees_an_endpoint_made_before_it(
    owner, fan_outs
):
    """In autocommit the event commits during the request, which asks about endpoints
    from what its rate limit read (core.prefetch): no query once "no" is cached, and an
    endpoint saved before the request is seen by it."""
    from tests.factories import ConversationFactory

    conversation = ConversationFactory(workspace=owner.workspace)
    _send(owner.client, conversation)  # "no" is cached
    with CaptureQueriesContext(connection) as queries:
        _send(owner.client, conversation)
    assert not [q for q in queries.captured_queries if "webhooks_webhookendpoint" in q["sql"]]
    assert fan_outs == []

    services.webhook_endpoint_create(workspace=owner.workspace, data={"url": URL})
    _send(owner.client, conversation)

    assert len(fan_outs) == 1


@pytest.mark.django_db(transaction=True)
def test_what_a_request_read_is_forgotten_when_it_ends(owner, fan_outs):
    """An event written after the request (a worker's, on the same thread) asks the cache
    itself, so it sees an endpoint saved since."""
    from conversations.services import message_create
    from tests.factories import ConversationFactory

    conversation = ConversationFactory(workspace=owner.workspace)
    _send(owner.client, conversation)  # "no" is cached
    _send(owner.client, conversation)  # and this request read it
    services.webhook_endpoint_create(workspace=owner.workspace, data={"url": URL})

    message_create(conversation=conversation, role="user", text="after")

    assert len(fan_outs) == 1
