import copy

import pytest

from flows.models import MessageFlow
from flows.openapi import SEED_003_REQUEST, SEED_003_RESPONSE
from tests.factories import AgentFactory, MessageFlowFactory

URL = "/v1/api/message-flows"


def seed_request(agent_id: object) -> dict:
    return {**copy.deepcopy(SEED_003_REQUEST), "agent": str(agent_id)}


def assert_same_shape(actual: object, expected: object, path: str = "") -> None:
    """Every key of the seed's example is present, with a value of the same JSON type."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        for key, value in expected.items():
            assert key in actual, f"missing {path}.{key}"
            assert_same_shape(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, bool):
        assert isinstance(actual, bool), path
    elif isinstance(expected, int | float):
        assert isinstance(actual, int | float), path
        assert not isinstance(actual, bool), path
    else:
        assert isinstance(actual, type(expected)), path


def test_seed_003_request_creates_a_flow_with_the_seeds_response_shape(api_client, agent):
    response = api_client.post(URL, seed_request(agent.pk), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert_same_shape(body, SEED_003_RESPONSE)
    # Extensions of seed 003: the delivery sender and the placeholders the message uses.
    assert set(body) == {*SEED_003_RESPONSE, "sender", "placeholders"}
    assert body["sender"] is None
    assert body["agent"] == str(agent.pk)
    assert body["workspaceId"] == str(agent.workspace_id)
    assert body["settings"]["responseSettings"] == SEED_003_RESPONSE["settings"]["responseSettings"]
    assert body["settings"]["emailSettings"] == SEED_003_RESPONSE["settings"]["emailSettings"]
    assert body["createdAt"].endswith("Z")
    assert MessageFlow.objects.get(pk=body["_id"]).working_hours_timezone == "UTC"


def test_nested_working_hours_are_accepted_as_in_the_seeds_response(api_client, agent):
    payload = seed_request(agent.pk)
    payload["settings"]["responseSettings"] = {
        "delay": 30,
        "workingHours": {
            "enabled": True,
            "start": "08:30",
            "end": "18:00",
            "timezone": "Europe/Paris",
        },
    }

    body = api_client.post(URL, payload, format="json").json()

    assert body["settings"]["responseSettings"] == {
        "delay": 30,
        "workingHours": {
            "enabled": True,
            "start": "08:30",
            "end": "18:00",
            "timezone": "Europe/Paris",
            "outOfHoursMessage": "",
        },
    }


def test_is_active_and_autopilot_default_to_false(api_client, agent):
    payload = seed_request(agent.pk)
    del payload["isActive"], payload["autopilot"], payload["settings"]

    body = api_client.post(URL, payload, format="json").json()

    assert body["isActive"] is False
    assert body["autopilot"] is False
    assert body["settings"]["responseSettings"]["delay"] == 0
    assert body["settings"]["security"] == {"hipaaCompliance": False}


def test_message_channel_is_accepted_in_any_case_and_answered_canonically(api_client, agent):
    payload = {**seed_request(agent.pk), "messageChannel": "eMaIl"}

    body = api_client.post(URL, payload, format="json").json()

    assert body["messageChannel"] == "Email"


def _set(payload: dict, path: str, value: object) -> dict:
    target = payload
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return payload


DELETE = object()
RS = "settings.responseSettings"


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("name", DELETE, "Field 'name' is required."),
        ("direction", DELETE, "Field 'direction' is required."),
        ("agent", DELETE, "Field 'agent' is required."),
        ("initiationMessage", DELETE, "Field 'initiationMessage' is required."),
        ("prompt", DELETE, "Field 'prompt' is required."),
        ("messageChannel", DELETE, "Field 'messageChannel' is required."),
        (
            "direction",
            "sideways",
            "Field 'direction' is invalid: Must be one of inbound, outbound, bidirectional.",
        ),
        ("messageChannel", "Fax", "Field 'messageChannel' is invalid: Must be one of SMS, Email."),
        (f"{RS}.start", "9:00", f"Field '{RS}.workingHours.start' is invalid"),
        (f"{RS}.end", "24:00", f"Field '{RS}.workingHours.end' is invalid"),
        (f"{RS}.timezone", "Mars/Olympus", f"Field '{RS}.workingHours.timezone' is invalid"),
        (f"{RS}.delay", -1, f"Field '{RS}.delay' is invalid"),
        (f"{RS}.delay", 7 * 24 * 3600 + 1, f"Field '{RS}.delay' is invalid"),
        (f"{RS}.delay", "10", f"Field '{RS}.delay' is invalid: Must be a number."),
        (f"{RS}.delay", True, f"Field '{RS}.delay' is invalid: Must be a number."),
        ("isActive", "yes", "Field 'isActive' is invalid: Must be true or false."),
        ("autopilot", 1, "Field 'autopilot' is invalid: Must be true or false."),
        ("name", 42, "Field 'name' is invalid: Must be a string."),
        ("settings", [], "Field 'settings' is invalid"),
        ("agent", "not-an-id", "Field 'agent' is invalid: No agent with id 'not-an-id'"),
        ("colour", "blue", "Field 'colour' is not recognised."),
        (f"{RS}.speed", 3, f"Field '{RS}.speed' is not recognised."),
    ],
)
def test_invalid_flow_is_refused_with_a_400_naming_the_field(
    api_client, agent, path, value, message
):
    payload = _set(seed_request(agent.pk), path, value)

    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "error"
    assert body["code"] == "validation_error"
    assert body["data"] is None
    assert body["message"].startswith(message), body
    assert MessageFlow.objects.count() == 0


def test_another_workspaces_agent_is_treated_as_unknown(api_client, outsider):
    foreign_agent = AgentFactory(workspace=outsider.workspace)

    response = api_client.post(URL, seed_request(foreign_agent.pk), format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith("Field 'agent' is invalid: No agent with id")


def test_flat_and_nested_working_hours_that_disagree_are_refused(api_client, agent):
    payload = seed_request(agent.pk)
    payload["settings"]["responseSettings"]["workingHours"] = {"start": "10:00"}

    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert "start" in response.json()["message"]


def test_patch_of_one_nested_setting_keeps_the_others(api_client, agent):
    created = api_client.post(URL, seed_request(agent.pk), format="json").json()

    response = api_client.patch(
        f"{URL}/{created['_id']}",
        {"settings": {"responseSettings": {"workingHours": {"timezone": "America/New_York"}}}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    hours = body["settings"]["responseSettings"]["workingHours"]
    assert hours == {
        **created["settings"]["responseSettings"]["workingHours"],
        "timezone": "America/New_York",
    }
    assert body["settings"]["emailSettings"] == created["settings"]["emailSettings"]
    assert body["name"] == created["name"]


def test_put_replaces_the_flow_and_resets_what_it_leaves_out(api_client, agent):
    created = api_client.post(URL, seed_request(agent.pk), format="json").json()
    replacement = seed_request(agent.pk)
    del replacement["settings"], replacement["isActive"]

    response = api_client.put(
        f"{URL}/{created['_id']}", {**replacement, "_id": created["_id"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["isActive"] is False
    assert body["settings"]["emailSettings"] == {"subjectLine": "", "signature": ""}


def test_list_is_newest_first_and_filters(api_client, workspace):
    older = MessageFlowFactory(workspace=workspace, is_active=True, message_channel="SMS")
    newer = MessageFlowFactory(workspace=workspace, is_active=False, message_channel="Email")

    everything = api_client.get(URL).json()
    active = api_client.get(URL, {"isActive": "true"}).json()
    email = api_client.get(URL, {"messageChannel": "email"}).json()

    assert [f["_id"] for f in everything["results"]] == [str(newer.pk), str(older.pk)]
    assert [f["_id"] for f in active["results"]] == [str(older.pk)]
    assert [f["_id"] for f in email["results"]] == [str(newer.pk)]


def test_list_pages_with_a_cursor(api_client, workspace):
    flows = MessageFlowFactory.create_batch(3, workspace=workspace)

    first = api_client.get(URL, {"limit": 2}).json()
    second = api_client.get(first["next"]).json()

    seen = [f["_id"] for f in first["results"] + second["results"]]
    assert sorted(seen) == sorted(str(f.pk) for f in flows)
    assert second["next"] is None


def test_bad_filter_value_is_a_400(api_client):
    response = api_client.get(URL, {"direction": "up"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("Field 'direction' is invalid")


def test_delete_removes_the_flow(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace)

    response = api_client.delete(f"{URL}/{flow.pk}")

    assert response.status_code == 204
    assert not MessageFlow.objects.filter(pk=flow.pk).exists()


def test_listing_flows_takes_a_fixed_number_of_queries(
    api_client, workspace, django_assert_max_num_queries
):
    MessageFlowFactory.create_batch(10, workspace=workspace)

    with django_assert_max_num_queries(4):
        response = api_client.get(URL)

    assert len(response.json()["results"]) == 10


def test_put_resets_days_and_sender_to_their_defaults(api_client, agent, workspace):
    from channels.models import Sender

    sender = Sender.objects.create(workspace=workspace, channel="SMS", address="+14155550100")
    payload = seed_request(agent.pk)
    payload["settings"]["responseSettings"]["days"] = [1, 2]
    created = api_client.post(URL, {**payload, "sender": str(sender.pk)}, format="json").json()
    assert created["settings"]["responseSettings"]["workingHours"]["days"] == [1, 2]

    body = api_client.put(f"{URL}/{created['_id']}", seed_request(agent.pk), format="json").json()

    assert body["sender"] is None
    assert "days" not in body["settings"]["responseSettings"]["workingHours"]


def test_the_flow_says_which_placeholders_its_message_uses(api_client, agent):
    payload = {
        **seed_request(agent.pk),
        "initiationMessage": "Hi {{customer.name|there}}, see you {{dynamic.when}}.",
    }

    body = api_client.post(URL, payload, format="json").json()

    assert body["placeholders"] == ["customer.name", "dynamic.when"]


def test_a_placeholder_outside_customer_and_dynamic_is_400(api_client, agent):
    payload = {**seed_request(agent.pk), "initiationMessage": "{{ settings.SECRET_KEY }}"}

    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert "settings.SECRET_KEY" in response.json()["errors"]["initiationMessage"][0]


@pytest.mark.parametrize("delay", [1.5, 0.25, 0, 30])
def test_delay_is_a_number_and_fractions_are_kept(api_client, agent, delay):
    payload = seed_request(agent.pk)
    payload["settings"]["responseSettings"]["delay"] = delay

    body = api_client.post(URL, payload, format="json").json()

    assert body["settings"]["responseSettings"]["delay"] == delay
    fetched = api_client.get(f"{URL}/{body['_id']}").json()
    assert fetched["settings"]["responseSettings"]["delay"] == delay
