from rest_framework.serializers import BaseSerializer

from agents.models import Agent
from agents.openapi import AGENT, AGENT_CREATE, AGENT_UPDATE
from agents.serializers import AgentSerializer
from agents.services import agent_create, agent_delete, agent_update
from core.openapi import crud_schema, error_example, error_responses
from workspaces.api import WorkspaceCrudViewSet


@crud_schema(
    "agent",
    "agents",
    ["Agents"],
    example=AGENT,
    create_example=AGENT_CREATE,
    update_example=AGENT_UPDATE,
    destroy={
        "description": "Refused with 409 while message flows still use the agent.",
        "responses": {204: None, **error_responses(409)},
        "examples": [
            error_example(
                "Agent in use",
                409,
                "Agent is used by 2 message flows; move or delete them first.",
                "agent_in_use",
            )
        ],
    },
)
class AgentViewSet(WorkspaceCrudViewSet):
    """Agents: the LLM personas that speak in a workspace's message flows."""

    queryset = Agent.objects.all()
    serializer_class = AgentSerializer
    not_found_name = "Agent"

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = agent_create(workspace=self.workspace, data=serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = agent_update(
            agent=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: Agent) -> None:
        agent_delete(agent=instance)
