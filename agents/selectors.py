from agents.models import Agent
from core.lookups import get_in_workspace
from workspaces.models import Workspace


def agent_for_workspace(*, workspace: Workspace, agent_id: object) -> Agent:
    """404 alike for a missing agent, another workspace's and a malformed id."""
    return get_in_workspace(Agent.objects.all(), workspace=workspace, pk=agent_id, what="Agent")
