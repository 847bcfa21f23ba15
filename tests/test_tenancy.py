"""Tenancy, walked from the URL resolver: every API route and every method, so a route
added tomorrow is covered without editing this file.

alice holds a read-and-write key of workspace A, bob a read-only key of A, charlie a key
of workspace B. charlie gets 404 (403 when his header names A) for everything of A and
finds nothing of A in any list, filter or event; bob can read A but never write.
"""

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign
from channels.models import Sender
from conversations.models import Conversation, Event, Message
from tests.factories import ApiKeyFactory
from tests.routes import (
    METHODS,
    World,
    allowed_methods,
    api_routes,
    make_world,
    route_values,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from workspaces.models import ApiKey


def _client(api_key: ApiKey, workspace_header: str) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}", HTTP_X_WORKSPACE_ID=workspace_header
    )
    return client


@pytest.fixture
def world(owner, settings) -> World:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    return make_world(owner.workspace)


def _state(world: World) -> tuple:
    """Everything of A a write could change."""
    return (
        sorted(Message.objects.values_list("id", "status", "text")),
        sorted(Conversation.objects.values_list("id", "ai_paused", "phase", "flow_id")),
        sorted(WebhookEndpoint.objects.values_list("id", "url", "enabled", "secret")),
        sorted(WebhookDelivery.objects.values_list("id", "status", "next_attempt_at")),
        sorted(Sender.objects.values_list("id", "address", "is_default", "max_per_second")),
        sorted(Campaign.objects.values_list("id", "status")),
        Event.objects.count(),
    )


def _request(client: APIClient, method: str, path: str):
    return getattr(client, method)(path, {}, format="json")


@pytest.fixture
def fast(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100000/min"},
    }


def test_every_route_needs_a_key_and_api_routes_need_the_workspace_header(owner, client, world):
    for route in api_routes():
        path = route.path(route_values(route, world))
        for method in METHODS:
            assert getattr(client, method)(path).status_code == 401, (method, path)
        if path.startswith("/v1/api/"):
            response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {owner.key}")
            assert response.status_code == 400, path


def test_the_walk_finds_every_scoped_route():
    names = {route.name for route in api_routes()}
    # A floor, so a broken walk cannot pass by finding nothing.
    assert {"agent-detail", "conversation-message-send", "events", "messages"} <= names
    assert len(names) >= 20, names


def test_charlie_gets_404_for_every_object_of_another_workspace(owner, outsider, world, fast):
    charlie = _client(outsider.api_key, str(outsider.workspace.pk))
    before = _state(world)
    for route in api_routes():
        if not route.kwargs:
            continue
        path = route.path(route_values(route, world))
        for method in METHODS:
            response = _request(charlie, method, path)
            assert response.status_code in (404, 405), (method, path, response.status_code)
            # The 404 may repeat the id charlie sent; nothing else of A may appear.
            body = response.content.decode()
            leaked = [m for m in world.markers if m in body and m not in path]
            assert not leaked, (method, path, leaked)
    assert _state(world) == before


def test_charlie_finds_nothing_of_another_workspace_in_lists_filters_and_events(
    owner, outsider, world, fast
):
    charlie = _client(outsider.api_key, str(outsider.workspace.pk))
    filters = [
        f"flowId={world.ids['flow']}",
        f"contactId={world.ids['contact']}",
        f"conversation={world.ids['conversation']}",
        "after=0",
    ]
    for route in api_routes():
        if route.kwargs or "get" not in allowed_methods(route):
            continue
        for query in ["", *filters]:
            response = charlie.get(route.path({}) + (f"?{query}" if query else ""))
            assert response.status_code in (200, 400), (route.name, query, response.status_code)
            body = response.content.decode()
            assert not any(marker in body for marker in world.markers), (route.name, query)


def test_charlie_naming_another_workspace_in_the_header_is_403_everywhere(
    owner, outsider, world, fast
):
    charlie_as_a = _client(outsider.api_key, str(owner.workspace.pk))
    before = _state(world)
    for route in api_routes():
        path = route.path(route_values(route, world))
        for method in METHODS:
            response = _request(charlie_as_a, method, path)
            assert response.status_code == 403, (method, path, response.status_code)
    assert _state(world) == before


def test_bob_with_a_read_key_reads_but_never_writes(owner, world, fast):
    bob = _client(
        ApiKeyFactory(workspace=owner.workspace, scopes=ApiKey.Scopes.READ),
        str(owner.workspace.pk),
    )
    before = _state(world)
    for route in api_routes():
        path = route.path(route_values(route, world))
        for method in ("post", "put", "patch", "delete"):
            response = _request(bob, method, path)
            assert response.status_code == 403, (method, path, response.status_code)
        if "get" in allowed_methods(route):
            assert bob.get(path).status_code == 200, path
    assert _state(world) == before


def test_alice_reads_every_object_of_her_workspace(owner, world, fast):
    """The walk reaches real objects: what charlie is refused, alice is given."""
    for route in api_routes():
        if "get" in allowed_methods(route):
            path = route.path(route_values(route, world))
            assert owner.client.get(path).status_code == 200, path
