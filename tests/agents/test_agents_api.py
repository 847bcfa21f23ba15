import pytest

from agents.models import Agent
from tests.factories import AgentFactory, MessageFlowFactory

URL = "/v1/api/agents"


def test_create_agent_answers_in_seed_003_conventions(api_client, workspace, settings):
    response = api_client.post(
        URL,
        {"name": "Concierge", "instructions": "Be kind.", "temperature": 0.2, "maxTokens": 300},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "_id",
        "workspaceId",
        "name",
        "instructions",
        "model",
        "temperature",
        "maxTokens",
        "createdAt",
        "updatedAt",
    }
    assert body["workspaceId"] == str(workspace.pk)
    assert body["model"] == settings.ANTHROPIC_DEFAULT_MODEL
    assert body["maxTokens"] == 300
    assert body["createdAt"].endswith("Z")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "Field 'name' is required."),
        ({"name": "a", "temperature": 1.5}, "Field 'temperature' is invalid"),
        ({"name": "a", "temperature": "hot"}, "Field 'temperature' is invalid: Must be a number."),
        ({"name": "a", "maxTokens": 0}, "Field 'maxTokens' is invalid"),
        ({"name": "a", "provider": "x"}, "Field 'provider' is not recognised."),
    ],
)
def test_invalid_agent_is_refused_naming_the_field(api_client, payload, message):
    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert not Agent.objects.exists()


def test_patch_changes_only_what_it_names(api_client, workspace):
    agent = AgentFactory(workspace=workspace, name="Old", instructions="Keep me")

    body = api_client.patch(f"{URL}/{agent.pk}", {"name": "New"}, format="json").json()

    assert body["name"] == "New"
    assert body["instructions"] == "Keep me"


def test_put_on_an_agent_is_405(api_client, agent):
    response = api_client.put(f"{URL}/{agent.pk}", {"name": "x"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_deleting_an_agent_that_flows_use_is_409_and_deletes_nothing(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace)

    response = api_client.delete(f"{URL}/{flow.agent_id}")

    assert response.status_code == 409
    assert (
        response.json()["message"] == "Agent is used by 1 message flow; move or delete them first."
    )
    assert Agent.objects.filter(pk=flow.agent_id).exists()


def test_deleting_an_unused_agent_removes_it(api_client, agent):
    assert api_client.delete(f"{URL}/{agent.pk}").status_code == 204
    assert not Agent.objects.filter(pk=agent.pk).exists()
