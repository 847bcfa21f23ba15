from django.db.models import ProtectedError

from agents.models import Agent
from core.errors import Conflict
from core.models import update_fields
from workspaces.models import Workspace


def agent_create(*, workspace: Workspace, data: dict) -> Agent:
    return Agent.objects.create(workspace=workspace, **data)


def agent_update(*, agent: Agent, data: dict) -> Agent:
    update_fields(agent, data)
    agent.save()
    return agent


def agent_delete(*, agent: Agent) -> None:
    """Refused while flows still use the agent: they would be left without a voice."""
    try:
        agent.delete()
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        raise Conflict(
            f"Agent is used by {count} message flow{'s' if count != 1 else ''}; "
            "move or delete them first.",
            code="agent_in_use",
        ) from None
