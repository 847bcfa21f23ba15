"""API keys verified from memory for API_KEY_CACHE_SECONDS: no query on the hot path,
revocation at once in the revoking process and within the cache time in the others,
and never a stale workspace."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import MessageFlowFactory
from workspaces import services
from workspaces.models import ApiKey
from workspaces.services import api_key_revoke

URL = "/v1/conversations"


@pytest.fixture(autouse=True)
def _forget_verified_keys():
    services._verified.clear()
    yield
    services._verified.clear()


def _key_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "workspaces_apikey" in q["sql"]]


def test_a_key_verified_before_is_verified_again_without_a_query(owner):
    assert _key_queries(owner.client)  # the first request looks the key up

    assert _key_queries(owner.client) == []
    assert _key_queries(owner.client) == []


def test_without_a_cache_time_every_request_looks_its_key_up(owner, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    _key_queries(owner.client)

    assert _key_queries(owner.client)


def test_a_revoked_key_is_refused_at_once_by_the_process_that_revoked_it(owner):
    owner.client.get(URL)

    api_key_revoke(api_key=owner.api_key)

    assert owner.client.get(URL).status_code == 401


def test_a_key_revoked_elsewhere_is_refused_once_the_cache_time_is_over(owner, monkeypatch):
    owner.client.get(URL)
    ApiKey.objects.filter(pk=owner.api_key.pk).update(revoked_at="2026-01-01T00:00:00Z")

    # Another process revoked it: this one trusts its memory for API_KEY_CACHE_SECONDS.
    assert owner.client.get(URL).status_code == 200
    later = services._monotonic() + 6
    monkeypatch.setattr(services, "_monotonic", lambda: later)

    assert owner.client.get(URL).status_code == 401


def test_a_remembered_key_revoked_elsewhere_is_refused_when_its_last_use_is_written(
    owner, monkeypatch
):
    owner.client.get(URL)
    ApiKey.objects.filter(pk=owner.api_key.pk).update(revoked_at="2026-01-01T00:00:00Z")
    monkeypatch.setattr(services, "LAST_USED_RESOLUTION", timedelta(0))

    assert owner.client.get(URL).status_code == 401
    assert owner.api_key.prefix not in services._verified


def test_a_wrong_secret_is_refused_even_for_a_remembered_prefix(owner, client):
    owner.client.get(URL)
    forged = f"sk_{owner.api_key.prefix}_{'x' * 43}"

    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert response.status_code == 401


def test_a_remembered_key_gets_its_scopes_and_a_workspace_that_is_never_stale(owner):
    owner.client.get("/v1/api/workspace")
    flow = MessageFlowFactory(workspace=owner.workspace)
    owner.workspace.name = "Renamed elsewhere"
    owner.workspace.default_flow = flow
    owner.workspace.save()

    body = owner.client.get("/v1/api/workspace").json()

    assert body["name"] == "Renamed elsewhere"
    assert body["defaultFlow"] == str(flow.pk)
    created = owner.client.post(
        "/v1/messages",
        {"sender_id": "c1", "sender_type": "user", "text": "Hi", "auto_reply": False},
        format="json",
    )
    assert created.status_code == 201
    assert owner.workspace.conversations.get().flow_id == flow.pk


def test_a_read_only_key_stays_read_only_when_remembered(read_only):
    assert read_only.client.get(URL).status_code == 200

    response = read_only.client.post(URL, {}, format="json")

    assert response.status_code == 403
