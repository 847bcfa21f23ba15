"""The base of every API view: it resolves the request's workspace from the API key
and scopes every queryset to it, so no view can reach another workspace's rows."""

from django.db.models import QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError, ImmediateResponse
from workspaces.idempotency import (
    HEADER,
    idempotency_begin,
    idempotency_finish,
    request_fingerprint,
)
from workspaces.models import ApiKey, IdempotencyRecord, Workspace

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


class WorkspaceScopedMixin:
    """Resolves `self.workspace` once authentication has passed, and applies
    Idempotency-Key to every POST."""

    workspace: Workspace
    _idempotency: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        body = request._request.body if request.method == "POST" else b""  # before parsing
        super().initial(request, *args, **kwargs)
        self.workspace = workspace_for_request(request)
        key = request.headers.get(HEADER)
        if request.method == "POST" and key is not None:
            outcome = idempotency_begin(
                workspace=self.workspace,
                key=key,
                fingerprint=request_fingerprint(request.method, request.path, body),
            )
            if isinstance(outcome, Response):
                raise ImmediateResponse(outcome)
            self._idempotency = outcome

    def handle_exception(self, exc: Exception) -> Response:
        try:
            return super().handle_exception(exc)
        except BaseException:
            # An unhandled error becomes a 500 outside DRF, so finalize_response never
            # sees it: free the key here, or it would answer 409 until the record expires.
            if self._idempotency is not None:
                self._idempotency.delete()
                self._idempotency = None
            raise

    def finalize_response(
        self, request: Request, response: Response, *args: object, **kwargs: object
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotency is not None:
            idempotency_finish(record=self._idempotency, response=response)
            self._idempotency = None
        return response


class WorkspaceAPIView(WorkspaceScopedMixin, APIView):
    pass


class WorkspaceViewSetMixin(WorkspaceScopedMixin):
    """Viewsets name their model's full queryset; this narrows it to the workspace."""

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return super().get_queryset().none()
        return super().get_queryset().filter(workspace=self.workspace)


class WorkspaceModelViewSet(WorkspaceViewSetMixin, viewsets.ModelViewSet):
    pass
