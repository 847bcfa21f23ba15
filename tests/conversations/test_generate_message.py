"""Seed 000: POST /v1/api/conversations/message/generate."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from conversations.models import Contact, Conversation, Message
from tests.factories import MessageFlowFactory

URL = "/v1/api/conversations/message/generate"


@pytest.fixture
def flow(workspace):
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        initiation_message=(
            "Hi {{customer.name}}, your appointment is confirmed for {{dynamic.when}}."
        ),
        reply_delay_seconds=30,
    )


def seed_request(flow, **changes) -> dict:
    return {
        "flowId": str(flow.pk),
        "to": "+14155550123",
        "metadata": {"customerDetails": {"name": "Sam"}},
        "autopilot": True,
        "dynamic": {"when": "tomorrow at 3 PM"},
        **changes,
    }


def test_seed_000_request_answers_with_the_seeds_fields(api_client, flow):
    before = timezone.now()

    response = api_client.post(URL, seed_request(flow), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Hi Sam, your appointment is confirmed for tomorrow at 3 PM."
    assert Conversation.objects.filter(pk=body["conversation_id"], flow=flow).exists()
    message = Message.objects.get(pk=body["message_id"])
    assert message.content == body["message"]
    assert body["delivery_status"] == "scheduled"
    send_at = datetime.fromisoformat(body["send_at"].replace("Z", "+00:00"))
    assert send_at >= before + timedelta(seconds=29)


def test_without_autopilot_the_message_is_a_draft(api_client, flow):
    payload = seed_request(flow)
    del payload["autopilot"]

    body = api_client.post(URL, payload, format="json").json()

    assert body["delivery_status"] == "draft"
    assert body["send_at"] is None


def test_conversation_created_event_names_the_flows_agent(api_client, flow):
    opened = api_client.post(URL, seed_request(flow), format="json").json()

    [event] = api_client.get("/v1/events", {"type": "conversation.created"}).json()["results"]
    assert event["data"]["conversationId"] == opened["conversation_id"]
    assert event["data"]["agentId"] == str(flow.agent_id)


def test_same_flow_and_recipient_reuse_the_conversation(api_client, flow):
    first = api_client.post(URL, seed_request(flow), format="json").json()
    second = api_client.post(URL, seed_request(flow, to="+1 (415) 555-0123"), format="json").json()

    assert first["conversation_id"] == second["conversation_id"]
    assert Contact.objects.count() == 1
    assert Contact.objects.get().name == "Sam"


def test_dynamic_inputs_are_kept_in_the_conversation_context(api_client, flow):
    body = api_client.post(URL, seed_request(flow), format="json").json()

    assert Conversation.objects.get(pk=body["conversation_id"]).context["dynamic"] == {
        "when": "tomorrow at 3 PM"
    }


def test_unknown_flow_is_404(api_client, flow):
    response = api_client.post(URL, seed_request(flow, flowId="nope"), format="json")

    assert response.status_code == 404
    assert response.json()["message"] == "Message flow not found: nope."


def test_another_workspaces_flow_is_404(api_client, outsider):
    theirs = MessageFlowFactory(workspace=outsider.workspace, is_active=True)

    assert api_client.post(URL, seed_request(theirs), format="json").status_code == 404


def test_an_inactive_flow_is_400_saying_so(api_client, flow):
    flow.is_active = False
    flow.save()

    response = api_client.post(URL, seed_request(flow), format="json")

    assert response.status_code == 400
    assert "is not active" in response.json()["message"]


def test_an_inbound_only_flow_is_400(api_client, flow):
    flow.direction = "inbound"
    flow.save()

    response = api_client.post(URL, seed_request(flow), format="json")

    assert response.status_code == 400
    assert "inbound-only" in response.json()["message"]


def test_an_email_address_for_an_sms_flow_is_400_naming_the_format(api_client, flow):
    response = api_client.post(URL, seed_request(flow, to="sam@example.com"), format="json")

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Field 'to' must be an E.164 phone number (e.g. +14155550123) for this SMS flow."
    )
    assert not Contact.objects.exists()


def test_a_phone_number_for_an_email_flow_is_400_naming_the_format(api_client, workspace):
    email_flow = MessageFlowFactory(workspace=workspace, is_active=True, message_channel="Email")

    response = api_client.post(URL, seed_request(email_flow, to="+14155550123"), format="json")

    assert response.status_code == 400
    assert "an email address (e.g. user@example.com)" in response.json()["message"]


def test_the_seeds_own_example_number_is_accepted(api_client, flow):
    response = api_client.post(URL, seed_request(flow, to="+1234567890"), format="json")

    assert response.status_code == 201, response.json()
    assert Contact.objects.get().address == "+1234567890"


def test_a_number_with_an_extension_is_refused_not_truncated(api_client, flow):
    response = api_client.post(URL, seed_request(flow, to="+14155550123 ext. 7"), format="json")

    assert response.status_code == 400
    assert "extension" in response.json()["errors"]["to"][0]
    assert not Contact.objects.exists()


def test_optional_fields_stay_optional_when_the_message_uses_them(api_client, flow):
    payload = seed_request(flow, dynamic={"when": "tomorrow"})
    del payload["metadata"]

    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["message"] == "Hi, your appointment is confirmed for tomorrow."


def test_a_placeholder_default_stands_in_for_a_missing_value(api_client, workspace):
    flow = MessageFlowFactory(
        workspace=workspace, is_active=True, initiation_message="Hi {{customer.name|there}}!"
    )
    payload = seed_request(flow)
    del payload["metadata"]

    assert api_client.post(URL, payload, format="json").json()["message"] == "Hi there!"


def test_a_nested_dynamic_value_used_in_the_message_is_400_naming_the_key(api_client, flow):
    response = api_client.post(URL, seed_request(flow, dynamic={"when": {"a": 1}}), format="json")

    assert response.status_code == 400
    assert "'dynamic.when'" in response.json()["message"]
    assert "dynamic.when" in response.json()["errors"]
    assert not Message.objects.exists()


def test_a_nested_dynamic_value_the_message_does_not_use_is_kept(api_client, flow):
    dynamic = {"when": "tomorrow", "visit": {"room": 4}}

    response = api_client.post(URL, seed_request(flow, dynamic=dynamic), format="json")

    assert response.status_code == 201
    conversation = Conversation.objects.get(pk=response.json()["conversation_id"])
    assert conversation.context["dynamic"] == dynamic


def test_placeholders_cannot_reach_code_or_settings(api_client, workspace):
    flow = MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        initiation_message="{{ settings.SECRET_KEY }} {% debug %} {{customer.__class__}}",
    )

    response = api_client.post(URL, seed_request(flow), format="json")

    assert response.status_code == 201
    assert response.json()["message"] == "{% debug %}"


def test_an_opted_out_contact_is_400_and_nothing_is_stored(api_client, flow, workspace):
    Contact.objects.create(
        workspace=workspace, channel="SMS", address="+14155550123", opted_out_at=timezone.now()
    )

    response = api_client.post(URL, seed_request(flow), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "contact_opted_out"
    assert not Message.objects.exists()


def test_workspace_header_is_required(client, owner, flow):
    response = client.post(
        URL,
        seed_request(flow),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {owner.key}",
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flowId": None}, "Field 'flowId' may not be null."),
        ({"to": 5}, "Field 'to' is invalid"),
        ({"autopilot": "yes"}, "Field 'autopilot' is invalid"),
        ({"dynamic": []}, "Field 'dynamic' is invalid"),
    ],
)
def test_bad_fields_are_400(api_client, flow, change, message):
    response = api_client.post(URL, seed_request(flow, **change), format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_outside_working_hours_the_send_waits_for_the_opening(api_client, workspace):
    flow = MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        initiation_message="Hello",
        working_hours_enabled=True,
        working_hours_timezone="UTC",
    )
    now = datetime.now(UTC)
    start = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    flow.working_hours_start = start.time()
    flow.working_hours_end = (start + timedelta(hours=1)).time()
    flow.save()

    body = api_client.post(URL, seed_request(flow), format="json").json()

    assert datetime.fromisoformat(body["send_at"].replace("Z", "+00:00")) == start
