"""Tenancy, walked from the URL resolver: every API route and every method, so a route
added tomorrow is covered without editing this file.

alice holds a read-and-write key of workspace A, bob a read-only key of A, charlie a key
of workspace B. charlie gets 404 (403 when his header names A) for everything of A and
finds nothing of A in any list, filter or event; bob can read A but never write.
"""

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignRecipient
from channels.models import Sender
from conversations.events import event_record
from conversations.models import Contact, Conversation, DeliveryStatus, Event, Message
from conversations.services import conversation_create, message_create
from tests.factories import AgentFactory, ApiKeyFactory, MessageFlowFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_endpoint_create
from workspaces.api import WorkspaceScopedMixin
from workspaces.models import ApiKey

METHODS = ("get", "post", "put", "patch", "delete")
# /v1/ routes that are not API-key routes: they prove themselves otherwise (provider
# signatures) or are public. Anything else under /v1/ must be workspace-scoped.
PUBLIC = {"schema", "swagger-ui", "twilio-sms", "twilio-status", "email-inbound-postmark"}
KWARG = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")


@dataclass
class Route:
    name: str
    pattern: str  # the regex path as Django joined it
    view: type

    def path(self, values: dict[str, str]) -> str:
        def fill(match: re.Match) -> str:
            return values[match.group(1) or match.group(2)]

        return "/" + KWARG.sub(fill, self.pattern).lstrip("^").rstrip("$").replace("\\", "")

    @property
    def kwargs(self) -> list[str]:
        return [a or b for a, b in KWARG.findall(self.pattern)]


def _walk(patterns: list, prefix: str = "") -> list[Route]:
    routes = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            routes += _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None) or getattr(
                entry.callback, "view_class", None
            )
            full = prefix + str(entry.pattern).lstrip("^")
            routes.append(Route(entry.name or full, full, view))
    return routes


def api_routes() -> list[Route]:
    routes = [r for r in _walk(get_resolver().url_patterns) if r.pattern.startswith("v1/")]
    unclaimed = [
        r.name
        for r in routes
        if r.name not in PUBLIC
        and not (isinstance(r.view, type) and issubclass(r.view, WorkspaceScopedMixin))
    ]
    assert not unclaimed, f"/v1/ routes neither workspace-scoped nor public: {unclaimed}"
    return [r for r in routes if r.name not in PUBLIC]


@dataclass
class World:
    """Workspace A's objects (one of each kind the API serves) and its marker ids."""

    ids: dict[str, str]
    markers: set[str]


def _client(api_key: ApiKey, workspace_header: str) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_key.raw_key}", HTTP_X_WORKSPACE_ID=workspace_header
    )
    return client


@pytest.fixture
def world(owner, settings) -> World:
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    workspace = owner.workspace
    agent = AgentFactory(workspace=workspace, name="alice-agent")
    sender = Sender.objects.create(workspace=workspace, channel="SMS", address="+14155550111")
    flow = MessageFlowFactory(workspace=workspace, agent=agent, sender=sender, is_active=True)
    contact = Contact.objects.create(workspace=workspace, channel="SMS", address="+14155550199")
    conversation = conversation_create(workspace=workspace, flow=flow, contact=contact)
    message = message_create(
        conversation=conversation, role="agent", text="alice-draft", status=DeliveryStatus.DRAFT
    )
    endpoint = webhook_endpoint_create(
        workspace=workspace, data={"url": "http://127.0.0.1:9/alice-hook"}
    )
    event = event_record(workspace_id=workspace.pk, type="test.event", data={})
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
    campaign = Campaign.objects.create(
        workspace=workspace, name="alice-campaign", flow=flow, send_at=conversation.created_at
    )
    CampaignRecipient.objects.create(
        campaign=campaign, workspace=workspace, position=1, to="+14155550199", message=message
    )
    ids = {
        "agent": str(agent.pk),
        "flow": str(flow.pk),
        "sender": str(sender.pk),
        "contact": str(contact.pk),
        "conversation": str(conversation.pk),
        "message": str(message.pk),
        "endpoint": str(endpoint.pk),
        "delivery": str(delivery.pk),
        "campaign": str(campaign.pk),
    }
    markers = {*ids.values(), "alice-agent", "alice-draft", "alice-hook", "alice-campaign"}
    return World(ids=ids, markers=markers)


def _values(route: Route, world: World) -> dict[str, str]:
    """A's ids for the route's URL parameters: `pk` is the row of the route's model."""
    by_model = {
        "Agent": "agent",
        "MessageFlow": "flow",
        "Sender": "sender",
        "Conversation": "conversation",
        "Message": "message",
        "WebhookEndpoint": "endpoint",
        "WebhookDelivery": "delivery",
        "Campaign": "campaign",
    }
    named = {
        "conversation_id": "conversation",
        "endpoint_id": "endpoint",
        "delivery_id": "delivery",
        "message_id": "message",
        "campaign_id": "campaign",
    }
    values = {}
    for kwarg in route.kwargs:
        if kwarg in named:
            values[kwarg] = world.ids[named[kwarg]]
        else:
            model = route.view.queryset.model.__name__
            values[kwarg] = world.ids[by_model[model]]
    return values


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
        path = route.path(_values(route, world))
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
        path = route.path(_values(route, world))
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
        if route.kwargs or "get" not in _allowed(route):
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
        path = route.path(_values(route, world))
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
        path = route.path(_values(route, world))
        for method in ("post", "put", "patch", "delete"):
            response = _request(bob, method, path)
            assert response.status_code == 403, (method, path, response.status_code)
        if "get" in _allowed(route):
            assert bob.get(path).status_code == 200, path
    assert _state(world) == before


def test_alice_reads_every_object_of_her_workspace(owner, world, fast):
    """The walk reaches real objects: what charlie is refused, alice is given."""
    for route in api_routes():
        if "get" in _allowed(route):
            path = route.path(_values(route, world))
            assert owner.client.get(path).status_code == 200, path


def _allowed(route: Route) -> set[str]:
    actions = getattr(route.view, "actions", None)
    callback = get_resolver().resolve(route.path(_dummy(route)))
    mapping = getattr(callback.func, "actions", None) or actions
    if mapping:
        return set(mapping)
    return {m for m in METHODS if hasattr(route.view, m)}


def _dummy(route: Route) -> dict[str, str]:
    return {kwarg: "00000000-0000-0000-0000-000000000000" for kwarg in route.kwargs}
