from django.db.models import QuerySet

from core.lookups import get_in_workspace
from flows.models import MessageFlow
from workspaces.models import Workspace


def flow_for_workspace(
    *, workspace: Workspace, flow_id: object, queryset: QuerySet | None = None
) -> MessageFlow:
    """404 alike for a missing flow, another workspace's and a malformed id."""
    return get_in_workspace(
        queryset if queryset is not None else MessageFlow.objects.select_related("agent"),
        workspace=workspace,
        pk=flow_id,
        what="Message flow",
    )
