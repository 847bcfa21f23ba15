"""The base of every API view: it resolves the request's workspace from the API key
and scopes every queryset to it, so no view can reach another workspace's rows."""

from django.db.models import QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from config.errors import ApplicationError
from workspaces.models import ApiKey, Workspace

WORKSPACE_HEADER = "x-workspace-id"


def workspace_for_request(request: Request) -> Workspace:
    """The key's workspace. Under /v1/api/ the x-workspace-id header is required;
    wherever it is given it must name the key's workspace."""
    api_key: ApiKey = request.auth
    claimed = request.headers.get(WORKSPACE_HEADER, "").strip()
    if not claimed and request.path.startswith("/v1/api/"):
        raise ApplicationError(
            f"Header '{WORKSPACE_HEADER}' is required.", code="workspace_header_missing"
        )
    if claimed and claimed != str(api_key.workspace_id):
        raise exceptions.PermissionDenied(
            f"Header '{WORKSPACE_HEADER}' does not name this API key's workspace."
        )
    return api_key.workspace


class WorkspaceAPIView(APIView):
    workspace: Workspace

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        self.workspace = workspace_for_request(request)


class WorkspaceViewSetMixin:
    """Viewsets name their model's full queryset; this narrows it to the workspace."""

    workspace: Workspace

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        self.workspace = workspace_for_request(request)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return super().get_queryset().none()
        return super().get_queryset().filter(workspace=self.workspace)


class WorkspaceModelViewSet(WorkspaceViewSetMixin, viewsets.ModelViewSet):
    pass
