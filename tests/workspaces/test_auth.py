import hashlib

import pytest

from tests.factories import AgentFactory, ConversationFactory
from workspaces.models import ApiKey
from workspaces.services import api_key_revoke

AGENTS = "/v1/api/agents"
INVALID = {
    "status": "error",
    "message": "Invalid or expired token.",
    "code": "unauthorized",
    "data": None,
}


def test_bearer_key_authenticates(owner, client):
    response = client.get(
        AGENTS,
        HTTP_AUTHORIZATION=f"Bearer {owner.key}",
        HTTP_X_WORKSPACE_ID=str(owner.workspace.pk),
    )

    assert response.status_code == 200


def test_x_api_key_header_authenticates(owner, client):
    response = client.get(
        AGENTS, HTTP_X_API_KEY=owner.key, HTTP_X_WORKSPACE_ID=str(owner.workspace.pk)
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer sk_nope_nope"},
        {"HTTP_AUTHORIZATION": "Bearer garbage"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_X_API_KEY": "sk_123456789012_wrong"},
    ],
    ids=["missing", "unknown", "malformed", "wrong-scheme", "unknown-x-api-key"],
)
def test_missing_or_unknown_key_is_401_with_the_seeds_message(owner, client, headers):
    response = client.get(AGENTS, HTTP_X_WORKSPACE_ID=str(owner.workspace.pk), **headers)

    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_key_with_the_right_prefix_but_wrong_secret_is_401(owner, client):
    forged = f"sk_{owner.api_key.prefix}_{'x' * 43}"

    response = client.get(
        AGENTS, HTTP_AUTHORIZATION=f"Bearer {forged}", HTTP_X_WORKSPACE_ID=str(owner.workspace.pk)
    )

    assert response.status_code == 401


def test_revoked_key_is_401(owner):
    api_key_revoke(api_key=owner.api_key)

    response = owner.client.get(AGENTS)

    assert response.status_code == 401
    assert response.json() == INVALID


def test_missing_workspace_header_is_400_saying_so(owner, client):
    response = client.get(AGENTS, HTTP_AUTHORIZATION=f"Bearer {owner.key}")

    assert response.status_code == 400
    assert response.json()["message"] == "Header 'x-workspace-id' is required."


def test_workspace_header_of_another_workspace_is_403(owner, outsider, client):
    response = client.get(
        AGENTS,
        HTTP_AUTHORIZATION=f"Bearer {owner.key}",
        HTTP_X_WORKSPACE_ID=str(outsider.workspace.pk),
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_read_only_key_can_read_but_not_write(read_only):
    assert read_only.client.get(AGENTS).status_code == 200

    response = read_only.client.post(AGENTS, {"name": "x"}, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'write' scope."


def test_last_used_at_is_recorded(owner):
    owner.client.get(AGENTS)

    owner.api_key.refresh_from_db()
    assert owner.api_key.last_used_at is not None


def test_only_a_hash_of_the_secret_is_stored(owner):
    row = ApiKey.objects.filter(pk=owner.api_key.pk).values().get()

    secret = owner.key.split("_", 2)[2]
    assert all(secret not in str(value) for value in row.values())
    assert row["secret_hash"] == hashlib.sha256(owner.key.encode()).hexdigest()


def test_rate_limit_answers_429_with_retry_after(owner, settings, monkeypatch):
    from workspaces import auth

    monkeypatch.setattr(auth, "_clock", lambda: 1_800_000_030.0)  # mid-window
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "2/min"},
    }
    AgentFactory(workspace=owner.workspace)

    statuses = [owner.client.get(AGENTS).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    response = owner.client.get(AGENTS)
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "rate_limited"
    assert response.json()["status"] == "error"


def test_with_the_cache_down_requests_pass_and_the_outage_is_logged(owner, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "1/min"},
    }

    answers = [owner.client.get("/v1/api/agents").status_code for _ in range(3)]

    assert answers == [200, 200, 200]
    assert "Rate limiting is off" in caplog.text


def test_the_limit_counts_per_key_in_fixed_windows(owner, read_only, settings, monkeypatch):
    from workspaces import auth

    monkeypatch.setattr(auth, "_clock", lambda: 1_800_000_030.0)  # mid-window
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"},
    }

    answers = [owner.client.get("/v1/api/agents").status_code for _ in range(4)]
    other_key = read_only.client.get("/v1/api/agents").status_code

    assert answers == [200, 200, 200, 429]
    assert other_key == 200


def _send(client, conversation) -> int:
    body = {"conversation_id": str(conversation.pk), "sender_id": "c-1", "sender_type": "user"}
    body |= {"text": "Hi", "auto_reply": False}
    return client.post("/v1/messages", body, format="json").status_code


def test_reads_and_writes_count_against_one_limit(owner, settings, monkeypatch):
    """Writes take the counter in the script that also reads what they will ask the
    cache (core.prefetch), reads with an INCR: one counter all the same."""
    from workspaces import auth

    monkeypatch.setattr(auth, "_clock", lambda: 1_800_000_030.0)  # mid-window
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "4/min"},
    }
    conversation = ConversationFactory(workspace=owner.workspace)

    answers = [
        owner.client.get(AGENTS).status_code,
        _send(owner.client, conversation),
        owner.client.get(AGENTS).status_code,
        _send(owner.client, conversation),
        _send(owner.client, conversation),
        owner.client.get(AGENTS).status_code,
    ]

    assert answers == [200, 201, 200, 201, 429, 429]
    assert conversation.messages.count() == 2


@pytest.mark.parametrize("first", ["read", "write"])
def test_a_windows_counter_expires_with_its_window(owner, settings, monkeypatch, first):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    from core.db import redis_client

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        pytest.skip("reads the counter's expiry in Redis (set REDIS_URL)")
    from workspaces import auth

    monkeypatch.setattr(auth, "_clock", lambda: 1_800_000_030.0)  # mid-window
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100/min"},
    }

    conversation = ConversationFactory(workspace=owner.workspace)
    if first == "write":  # the window's first hit by the script, then INCRs
        assert _send(owner.client, conversation) == 201
    else:  # by an INCR, then the script
        owner.client.get(AGENTS)
    owner.client.get(AGENTS)
    assert _send(owner.client, conversation) == 201

    client = redis_client(backend)
    keys = client.keys(backend.make_and_validate_key(f"throttle:api_key:{owner.api_key.pk}:*"))
    assert len(keys) == 1
    assert int(client.get(keys[0])) == 3
    assert 0 < client.ttl(keys[0]) <= 61
