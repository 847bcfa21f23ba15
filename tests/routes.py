"""The API's routes, walked from the URL resolver, and one workspace with an object of
every kind they serve: for the tests that must cover every route, including one added
tomorrow (tenancy, conventions)."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

from campaigns.models import Campaign, CampaignRecipient
from channels.models import Sender
from conversations.events import event_record
from conversations.models import Contact, DeliveryStatus
from conversations.services import conversation_create, message_create
from tests.factories import AgentFactory, MessageFlowFactory
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_endpoint_create
from workspaces.api import WorkspaceScopedMixin
from workspaces.models import Workspace

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


def make_world(workspace: Workspace) -> World:
    """Call with WEBHOOKS_ALLOW_PRIVATE_NETWORKS on (the endpoint is on loopback)."""
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


def route_values(route: Route, world: World) -> dict[str, str]:
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


def allowed_methods(route: Route) -> set[str]:
    actions = getattr(route.view, "actions", None)
    callback = get_resolver().resolve(route.path(_dummy(route)))
    mapping = getattr(callback.func, "actions", None) or actions
    if mapping:
        return set(mapping)
    return {m for m in METHODS if hasattr(route.view, m)}


def _dummy(route: Route) -> dict[str, str]:
    return {kwarg: "00000000-0000-0000-0000-000000000000" for kwarg in route.kwargs}
