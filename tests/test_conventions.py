"""One spelling at the HTTP edge (docs/api.md, "Conventions"): every endpoint answers
camelCase keys and `_id`, and so does every event's data; `POST /v1/messages` answers
exactly the snake_case its specification shows, and only it does. Keys inside what a
client wrote (metadata, context, dynamic values, customer details) are the client's.

The GET routes are walked from the URL resolver (tests/routes.py), so a route added
tomorrow is checked without editing this file."""

import re

import pytest

from campaigns.models import Campaign
from campaigns.services import campaign_pause, campaign_resume
from conversations.inbound import contact_opt_out
from conversations.models import Conversation, Event, Message
from conversations.services import conversation_pause, conversation_resume
from tests.routes import World, allowed_methods, api_routes, make_world, route_values
from webhooks.models import WebhookEndpoint
from webhooks.services import _endpoint_disable

# Subtrees that hold what a client or operator wrote, under whatever keys they chose.
USER_DATA = {"metadata", "context", "dynamic", "customerDetails", "stateAfter"}
CAMEL = re.compile(r"^(_id|[a-z][a-zA-Z0-9]*)$")


def off_convention(value: object, path: str = "") -> list[str]:
    """The paths of keys that are snake_case, a bare `id`, or otherwise not camelCase."""
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            where = f"{path}.{key}" if path else key
            if key in USER_DATA:
                continue
            if key == "id" or not CAMEL.match(key):
                found.append(where)
            found += off_convention(child, where)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += off_convention(child, f"{path}[{index}]")
    return found


def test_the_check_finds_snake_case_and_bare_ids_but_not_user_data():
    assert off_convention(
        {
            "_id": "1",
            "conversationId": "2",
            "message": {"id": "3", "sender_id": "x", "metadata": {"my_key": 1}},
            "results": [{"created_at": "t", "context": {"any_thing": 1}}],
        }
    ) == ["message.id", "message.sender_id", "results[0].created_at"]


@pytest.fixture
def busy_world(owner, settings) -> World:
    """An object of every kind the API serves, and a little of everything the events
    report: a reply written by the model, a pause, an opt-out, a campaign paused and
    resumed, a disabled webhook endpoint."""
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    world = make_world(owner.workspace)
    conversation = Conversation.objects.get(pk=world.ids["conversation"])
    posted = owner.client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {
            "role": "user",
            "content": "Can I move my visit?",
            "action": "generate-reply",
            "metadata": {"crm_ref": "A-1"},
        },
        format="json",
    )
    assert posted.status_code == 201, posted.content
    assert off_convention(posted.json()) == []
    conversation_pause(conversation=conversation, by="api")
    conversation_resume(conversation=conversation)
    campaign = Campaign.objects.get(pk=world.ids["campaign"])
    campaign_resume(campaign=campaign_pause(campaign=campaign))
    contact_opt_out(contact=conversation.contact, reason="keyword STOP")
    _endpoint_disable(endpoint_id=WebhookEndpoint.objects.get().pk, reason="gone")
    return world


def test_every_get_route_answers_camel_case_and_underscore_id(owner, busy_world):
    walked = []
    for route in api_routes():
        if "get" not in allowed_methods(route):
            continue
        response = owner.client.get(route.path(route_values(route, busy_world)))
        assert response.status_code == 200, (route.name, response.status_code)
        assert off_convention(response.json()) == [], route.name
        walked.append(route.name)
    # A floor, so a broken walk cannot pass by finding nothing.
    assert {"conversation-list", "conversation-message-list", "messages", "events"} <= set(walked)


def test_every_event_data_is_camel_case_and_the_message_keeps_its_metadata(owner, busy_world):
    events = owner.client.get("/v1/events", {"limit": 500}).json()["results"]
    types = {event["type"] for event in events}
    assert {
        "conversation.created",
        "message.created",
        "reply.generated",
        "conversation.paused",
        "conversation.resumed",
        "campaign.paused",
        "campaign.resumed",
        "contact.opted_out",
        "message.canceled",
        "webhook_endpoint.disabled",
    } <= types
    for event in events:
        assert off_convention(event) == [], event["type"]
    stored = Event.objects.filter(workspace=owner.workspace)
    assert all(off_convention(event.data) == [] for event in stored)
    [customer] = [
        e["data"]["message"]
        for e in events
        if e["type"] == "message.created" and e["data"]["message"]["role"] == "user"
    ]
    assert customer["metadata"] == {"crm_ref": "A-1"}  # the client's own key, untouched


def test_send_message_answers_exactly_the_snake_case_of_its_specification(owner):
    response = owner.client.post(
        "/v1/messages",
        {
            "sender_id": "usr_82hd92",
            "sender_type": "user",
            "text": "Hello",
            "metadata": {"channel": "web"},
            "auto_reply": False,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"status", "message", "data"}
    assert set(body["data"]) == {"conversation_id", "message", "auto_reply_enqueued"}
    message = body["data"]["message"]
    assert set(message) == {"id", "sender_id", "sender_type", "text", "metadata", "created_at"}
    assert Message.objects.filter(pk=message["id"]).exists()
