"""The base of every API view: it resolves the request's workspace from the API key
and scopes every queryset to it, so no view can reach another workspace's rows."""

from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import prefetch
from core.errors import ApplicationError, ImmediateResponse, NotFound
from core.lookups import parse_id
from core.pagination import NewestFirstPagination
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

    def dispatch(self, request: object, *args: object, **kwargs: object) -> Response:
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            prefetch.forget()  # what the rate limit read is this request's alone

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
    """For endpoints that are operations rather than one table's rows (send a message,
    read events): they hand `self.workspace` to a service, which takes it as a
    required argument."""


# Methods a workspace-scoped viewset may not override: together they are the only ways
# DRF reaches rows, and the base applies the workspace to each of them.
GUARDED = ("get_queryset", "get_object", "filter_queryset")


class WorkspaceViewSetMixin(WorkspaceScopedMixin):
    """Every row a viewset lists, fetches, changes or deletes is of the request's
    workspace, by construction: subclasses name `queryset` (or narrow it further in
    `safely_get_queryset` / `safely_filter_queryset`) and cannot override the methods
    that apply the scope (they fail at import). `workspace_field` is the lookup from the
    model to its workspace (e.g. "endpoint__workspace" for a webhook delivery)."""

    workspace_field = "workspace"
    # How the 404 names what was not found ("Conversation not found: <id>.").
    not_found_name = "Resource"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        overridden = [name for name in GUARDED if name in cls.__dict__]
        if overridden:
            raise TypeError(
                f"{cls.__qualname__} overrides {', '.join(overridden)}, which would bypass "
                "workspace scoping; narrow the queryset in safely_get_queryset or "
                "safely_filter_queryset instead."
            )

    def safely_get_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow (or annotate) the queryset; the workspace filter is applied after."""
        return queryset

    def safely_filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Client filters of the list (query parameters); scoped before and after."""
        return queryset

    def _scoped(self, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**{self.workspace_field: self.workspace})

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # schema generation, no request
            return queryset.none()
        return self._scoped(self.safely_get_queryset(queryset))

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return self._scoped(self.safely_filter_queryset(super().filter_queryset(queryset)))

    def get_object(self) -> Model:
        """The row named in the URL: a malformed id is a 404 like a missing one."""
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup)
        if parse_id(value) is None:
            raise NotFound(f"{self.not_found_name} not found: {value}.")
        self.kwargs[lookup] = str(parse_id(value))
        try:
            return super().get_object()
        except Http404:
            raise NotFound(f"{self.not_found_name} not found: {value}.") from None


class WorkspaceModelViewSet(WorkspaceViewSetMixin, viewsets.ModelViewSet):
    pass


class WorkspaceCrudViewSet(WorkspaceModelViewSet):
    """A workspace resource with create, list (newest first), retrieve, PATCH and
    delete; no PUT (a partial update says exactly what changes)."""

    pagination_class = NewestFirstPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
