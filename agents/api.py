from rest_framework.serializers import BaseSerializer

from agents.models import Agent
from agents.openapi import AGENT_EXAMPLES
from agents.serializers import AgentSerializer
from agents.services import agent_create, agent_delete, agent_update
from core.openapi import crud_schema
from core.pagination import NewestFirstPagination
from workspaces.api import WorkspaceModelViewSet


@crud_schema(
    "agent",
    "agents",
    ["Agents"],
    create={"examples": AGENT_EXAMPLES},
    destroy={"description": "Refused with 409 while message flows still use the agent."},
)
class AgentViewSet(WorkspaceModelViewSet):
    """Agents: the LLM personas that speak in a workspace's message flows."""

    queryset = Agent.objects.all()
    serializer_class = AgentSerializer
    pagination_class = NewestFirstPagination
    not_found_name = "Agent"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = agent_create(workspace=self.workspace, data=serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = agent_update(
            agent=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance: Agent) -> None:
        agent_delete(agent=instance)
