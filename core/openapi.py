"""OpenAPI: the schema class every API view uses. It adds what is true of every operation
of a kind, so no view has to repeat it and none can forget it:

- the x-workspace-id header on /v1/api/ routes, and Idempotency-Key on the POSTs of the
  views that honour it (registered by the app that implements it, since core imports
  no app);
- the error responses each operation can give, all with the one `Error` component (the
  seed 001 envelope) and an example: 400 when there is a body, a query or a required
  header to get wrong; 401 and 403 when an API key is needed; 404 when the path names
  a row or a list takes a cursor; 409 and 422 with Idempotency-Key; 413 with a body
  under /v1/; 429 when throttled.
  A view adds the others it can give with `error_responses(...)`.

Each app keeps its examples beside its views (`<app>/openapi.py`)."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import INVALID_TOKEN

# --- The error envelope and its stable codes --------------------------------------------

# Every `code` the API answers with, by the status it comes with. Clients may branch on
# them; tests/test_openapi.py fails when the code base raises one that is not listed.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "validation_error": (
        400,
        "A field, query parameter or header is invalid; `errors` "
        "names each by its path (e.g. `settings.responseSettings.delay`).",
    ),
    "parse_error": (400, "The body is not valid JSON (or form data)."),
    "bad_request": (
        400,
        "The request is malformed (e.g. an inbound-email webhook without its basic auth).",
    ),
    "workspace_header_missing": (400, "`x-workspace-id` is required on /v1/api/ routes."),
    "cross_workspace": (400, "A referenced row belongs to another workspace."),
    "flow_inactive": (400, "The message flow is not active."),
    "flow_inbound_only": (400, "The message flow is inbound only: it cannot start a conversation."),
    "contact_opted_out": (400, "The recipient opted out of this channel."),
    "no_agent": (400, "The conversation has no agent to generate a reply."),
    "sender_not_owned": (
        400,
        "The address is not the service's to send from (the Twilio "
        "account does not own the number, or the email domain is not "
        "allowed).",
    ),
    "unauthorized": (401, "The API key is missing, unknown or revoked."),
    "forbidden": (
        403,
        "The key lacks the scope the request needs, `x-workspace-id` names "
        "another workspace, or a provider signature is invalid.",
    ),
    "not_found": (
        404,
        "No such row in this workspace (another workspace's rows are "
        "missing alike), an unknown URL, or an invalid cursor.",
    ),
    "method_not_allowed": (405, "The route does not take this method."),
    "not_acceptable": (406, "The Accept header asks for something other than JSON."),
    "conflict": (409, "The request conflicts with the resource's state."),
    "agent_in_use": (409, "The agent is used by message flows and cannot be deleted."),
    "sender_address_taken": (409, "The address is another sender's."),
    "reply_in_progress": (409, "A reply is being generated in this conversation."),
    "message_not_draft": (409, "Only a draft can be approved."),
    "message_already_left": (409, "The message left already and cannot be canceled."),
    "webhook_disabled": (409, "The webhook endpoint is disabled."),
    "webhook_in_flight": (409, "The webhook delivery is being attempted right now."),
    "idempotency_in_flight": (409, "A request with this Idempotency-Key is still running."),
    "payload_too_large": (413, "The body is larger than API_MAX_BODY_BYTES (1 MiB)."),
    "unsupported_media_type": (415, "The body is not `application/json`."),
    "idempotency_key_reused": (422, "This Idempotency-Key was used with another request."),
    "rate_limited": (429, "Too many requests for this API key; retry after `Retry-After` seconds."),
    "server_error": (500, "An unexpected error; nothing was kept of a failed write."),
    "store_failed": (500, "The message could not be stored; retry."),
    "provider_unavailable": (
        503,
        "A provider the request must ask (Twilio) did not answer; retry.",
    ),
    "reply_failed": (500, "The model refused or failed to generate the reply."),
    "error": (0, "Any other status without a code of its own."),
}


def _codes_table() -> str:
    rows = "\n".join(
        f"| `{code}` | {status or 'other'} | {meaning} |"
        for code, (status, meaning) in sorted(
            ERROR_CODES.items(), key=lambda item: (item[1][0] or 999, item[0])
        )
    )
    return f"| code | status | meaning |\n|---|---|---|\n{rows}"


# "Always null": OpenAPI 3.0 says it as a nullable empty object (an enum of null alone
# would be dropped by drf-spectacular's enum extraction).
@extend_schema_field(
    {"type": "object", "nullable": True, "maxProperties": 0, "description": "Always null."}
)
class _NullField(serializers.Field):
    def to_representation(self, value: object) -> None:
        return None


class ErrorSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["error"])
    message = serializers.CharField(help_text="The first problem, as a sentence.")
    code = serializers.CharField(help_text="Stable and machine-readable: see the table.")
    data = _NullField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation only: every problem, by field path.",
    )


# The component's description (drf-spectacular takes it from the docstring).
ErrorSerializer.__doc__ = (
    "Every error the API answers, whatever its status: `POST /v1/messages`' envelope "
    '`{"status": "error", "message", "data": null}` with a stable `code` and, on '
    "validation errors, `errors`.\n\n" + _codes_table()
)

ERROR_DESCRIPTIONS = {
    400: "Invalid request: a field, query parameter or header (`code` says which problem).",
    401: "API key missing, unknown or revoked.",
    403: "The key lacks the scope, or `x-workspace-id` names another workspace.",
    404: "Not found in this workspace.",
    409: "Conflict with the resource's state, or the same Idempotency-Key still running.",
    413: "The body is too large.",
    422: "Idempotency-Key reused with a different request.",
    429: "Rate limit reached: retry after `Retry-After` seconds.",
    500: "Server error.",
    503: "A provider the request needs did not answer; retry.",
}


def _error(message: str, code: str, errors: dict | None = None) -> dict:
    body = {"status": "error", "message": message, "code": code, "data": None}
    if errors is not None:
        body["errors"] = errors
    return body


# The fallback example of each status, for operations whose view gives none of its own.
ERROR_EXAMPLES = {
    400: [
        OpenApiExample(
            "Validation error",
            value=_error(
                "Field 'name' may not be blank.",
                "validation_error",
                {"name": ["This field may not be blank."]},
            ),
        )
    ],
    401: [OpenApiExample("Unauthorized", value=_error(INVALID_TOKEN, "unauthorized"))],
    403: [
        OpenApiExample(
            "Missing scope", value=_error("This API key lacks the 'write' scope.", "forbidden")
        )
    ],
    404: [OpenApiExample("Not found", value=_error("Not found.", "not_found"))],
    409: [
        OpenApiExample(
            "Idempotency-Key in flight",
            value=_error(
                "A request with this Idempotency-Key is still in progress.",
                "idempotency_in_flight",
            ),
        )
    ],
    413: [
        OpenApiExample(
            "Body too large",
            value=_error("The request body is larger than 1048576 bytes.", "payload_too_large"),
        )
    ],
    422: [
        OpenApiExample(
            "Idempotency-Key reused",
            value=_error(
                "This Idempotency-Key was used with a different request.",
                "idempotency_key_reused",
            ),
        )
    ],
    429: [
        OpenApiExample(
            "Rate limited",
            value=_error(
                "Too many requests. Retry after the number of seconds in Retry-After.",
                "rate_limited",
            ),
        )
    ],
    500: [OpenApiExample("Server error", value=_error("Internal server error.", "server_error"))],
}
IDEMPOTENCY_KEY_EXAMPLE = OpenApiExample(
    "Idempotency-Key too long",
    value=_error("Header 'Idempotency-Key' must be 1 to 255 characters.", "validation_error"),
)
CONFLICT_EXAMPLE = OpenApiExample(
    "Conflict", value=_error("The request conflicts with the resource's state.", "conflict")
)
WORKSPACE_HEADER_EXAMPLE = OpenApiExample(
    "Missing x-workspace-id",
    value=_error("Header 'x-workspace-id' is required.", "workspace_header_missing"),
)


def error_response(status: int, description: str = "") -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description or ERROR_DESCRIPTIONS[status])


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses an operation gives beyond those AutoSchema adds by itself, for a
    view's `extend_schema(responses={201: X, **error_responses(404, 409)})`."""
    return {status: error_response(status) for status in statuses}


def error_example(name: str, status: int, message: str, code: str, **kwargs: object):
    """A view's own example of one of its errors (it replaces the generic one)."""
    return OpenApiExample(
        name,
        value=_error(message, code, kwargs.pop("errors", None)),
        response_only=True,
        status_codes=[str(status)],
        **kwargs,
    )


# --- Headers ----------------------------------------------------------------------------

WORKSPACE_HEADER_PARAMETER = OpenApiParameter(
    name="x-workspace-id",
    type=str,
    location=OpenApiParameter.HEADER,
    required=True,
    description="Workspace identifier for the API; must be the API key's workspace.",
)
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "1 to 255 characters. The same key with the same body within 24 hours replays the "
        "first answer (with `Idempotent-Replayed: true`) without doing the work again; with "
        "another body it is a 422, while the first request still runs a 409."
    ),
    examples=[OpenApiExample("A client-chosen key", value="order-1234-confirmation")],
)
IDEMPOTENT_REPLAYED_HEADER = OpenApiParameter(
    name="Idempotent-Replayed",
    type=str,
    location=OpenApiParameter.HEADER,
    enum=["true"],
    description="Present when this is the replay of an earlier answer.",
    response=["200", "201", "202", "204"],
)
RETRY_AFTER_HEADER = OpenApiParameter(
    name="Retry-After",
    type=int,
    location=OpenApiParameter.HEADER,
    description="Seconds to wait before the next request.",
    response=["429"],
)

# The view classes whose POSTs honour Idempotency-Key. The app that implements it
# registers its base here (workspaces.openapi), as core imports no app.
IDEMPOTENT_VIEWS: list[type] = []


def register_idempotent_views(base: type) -> None:
    if base not in IDEMPOTENT_VIEWS:
        IDEMPOTENT_VIEWS.append(base)


# --- The schema class -------------------------------------------------------------------


class AutoSchema(SpectacularAutoSchema):
    def is_idempotent_post(self) -> bool:
        return self.method == "POST" and isinstance(self.view, tuple(IDEMPOTENT_VIEWS))

    def get_override_parameters(self) -> list:
        params = list(super().get_override_parameters())
        if self.path.startswith("/v1/api/"):
            params.append(WORKSPACE_HEADER_PARAMETER)
        if self.is_idempotent_post():
            params += [IDEMPOTENCY_KEY_PARAMETER, IDEMPOTENT_REPLAYED_HEADER]
        if self.view.get_throttles():
            params.append(RETRY_AFTER_HEADER)
        return params

    def _traits(self) -> tuple[bool, bool, set[str]]:
        """(takes a body, takes a query, the parameters' names) of this operation."""
        parameters = self._get_parameters()
        return (
            self._get_request_body() is not None,
            any(p["in"] == "query" for p in parameters),
            {p["name"] for p in parameters if p["in"] in ("path", "query", "header")}
            | {"{path}" for p in parameters if p["in"] == "path"},
        )

    def error_statuses(self) -> set[int]:
        """The errors every operation of this kind can answer (see the module's doc).
        The documentation-only views of plain Django views say theirs themselves."""
        if isinstance(self.view, PlainViewSchema):
            return set()
        body, query, names = self._traits()
        statuses = set()
        if body or query or self.path.startswith("/v1/api/"):
            statuses.add(400)
        if body and self.path.startswith("/v1/"):
            statuses.add(413)  # core.limits, before anything else runs
        if any(self.get_auth()):
            statuses |= {401, 403}
        if "{path}" in names or "cursor" in names:
            statuses.add(404)
        if IDEMPOTENCY_KEY_PARAMETER.name in names:
            statuses |= {400, 409, 422}
        if self.view.get_throttles():
            statuses.add(429)
        return statuses

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: object
    ) -> dict | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self.error_statuses():
            if str(status) not in responses:
                responses[str(status)] = self._get_response_for_code(
                    error_response(status), str(status)
                )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _get_response_for_code(
        self,
        serializer: object,
        status_code: str,
        media_types: list | None = None,
        direction: str = "response",
    ) -> dict:
        # An error response gets the generic examples of its status, but for the codes
        # the view shows examples of its own.
        if isinstance(serializer, OpenApiResponse) and serializer.response is ErrorSerializer:
            shown = {
                e.value.get("code")
                for e in [*self.get_examples(), *serializer.examples]
                if status_code in map(str, e.status_codes or ()) and isinstance(e.value, dict)
            }
            generic = [
                e
                for e in self.generic_error_examples(int(status_code), bool(shown))
                if e.value["code"] not in shown
            ]
            serializer = OpenApiResponse(
                serializer.response,
                description=serializer.description,
                examples=[*serializer.examples, *generic],
            )
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_examples(
        self,
        serializer: object,
        direction: str,
        media_type: str,
        status_code: str | None = None,
        extras: list | None = None,
    ) -> dict:
        # drf-spectacular files an example without a media type under JSON only; a
        # request example is of the body, whatever its media type (Twilio's forms).
        if direction == "request":
            extras = [
                *(extras or []),
                *(
                    e
                    for e in self.get_examples()
                    if not (e.media_type or e.response_only or e.parameter_only)
                ),
            ]
        return super()._get_examples(serializer, direction, media_type, status_code, extras)

    def generic_error_examples(self, status: int, own: bool) -> list[OpenApiExample]:
        if isinstance(self.view, PlainViewSchema):
            return []
        if status == 409 and not self.is_idempotent_post():
            return [] if own else [CONFLICT_EXAMPLE]
        if status != 400:
            return list(ERROR_EXAMPLES.get(status, []))
        body, query, names = self._traits()
        examples = list(ERROR_EXAMPLES[400]) if body or query else []
        if self.path.startswith("/v1/api/"):
            examples.append(WORKSPACE_HEADER_EXAMPLE)
        if IDEMPOTENCY_KEY_PARAMETER.name in names:
            examples.append(IDEMPOTENCY_KEY_EXAMPLE)
        return examples


# --- CRUD -------------------------------------------------------------------------------


def _kinds(example: OpenApiExample) -> set[str]:
    kinds = set()
    if not example.response_only:
        kinds.add("request")
    codes = [str(c) for c in example.status_codes or ("200", "201")]
    if not example.request_only and any(c.startswith("2") for c in codes):
        kinds.add("response")
    return kinds


def _uncovered(generated: list[OpenApiExample], own: list[OpenApiExample]) -> list:
    """The generated examples of a kind (request, success response) `own` has none of."""
    covered = set().union(*(_kinds(e) for e in own)) if own else set()
    return [e for e in generated if not _kinds(e) & covered]


def crud_schema(
    noun: str,
    plural: str,
    tags: list[str],
    *,
    example: dict,
    create_example: dict,
    update_example: dict,
    **actions: dict,
) -> object:
    """The schema of a workspace resource's CRUD viewset: a summary per action in one
    wording ("Create a sender"), the tags, examples (`example` is one resource as the API
    answers it; lists show it in a page), and per action whatever `actions` adds
    (description, examples, responses, or another summary). An action's own request or
    success examples replace the generated ones of that kind."""
    article = "an" if noun[0].lower() in "aeiou" else "a"
    title = noun[0].upper() + noun[1:]
    answer = OpenApiExample(title, value=example, response_only=True)
    create = OpenApiExample(f"Create {article} {noun}", value=create_example, request_only=True)
    change = OpenApiExample(f"Change {article} {noun}", value=update_example, request_only=True)
    described = {
        "list": {"summary": f"List {plural}", "examples": [answer]},
        "create": {"summary": f"Create {article} {noun}", "examples": [create, answer]},
        "retrieve": {"summary": f"Retrieve {article} {noun}", "examples": [answer]},
        "partial_update": {"summary": f"Update {article} {noun}", "examples": [change, answer]},
        "update": {"summary": f"Replace {article} {noun}", "examples": [create, answer]},
        "destroy": {"summary": f"Delete {article} {noun}"},
    }
    for action, extra in actions.items():
        extra = dict(extra)
        own = extra.pop("examples", [])
        current = described.setdefault(action, {})
        current.update(extra)
        current["examples"] = [*own, *_uncovered(current.get("examples", []), own)]
    return extend_schema_view(
        **{action: extend_schema(tags=tags, **kwargs) for action, kwargs in described.items()}
    )


# --- Health (core.health's plain Django views; see config.openapi) ----------------------


class _Health(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class _ReadyChecks(serializers.Serializer):
    database = serializers.BooleanField()
    broker = serializers.BooleanField()
    cache = serializers.BooleanField()
    beat = serializers.BooleanField(help_text="Ticking, and none of its entries disabled.")


class _Beat(serializers.Serializer):
    ticking = serializers.BooleanField()
    disabled = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())


class _Ready(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded", "unavailable"])
    checks = _ReadyChecks()
    degraded = serializers.ListField(child=serializers.CharField(), help_text="Failed checks.")
    beat = _Beat()


class PlainViewSchema(APIView):
    """The base of documentation-only views: the schema of a plain Django view, which
    drf-spectacular cannot see. Never routed; config.openapi puts each one in the
    schema at the path of the view it documents."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class HealthzSchema(PlainViewSchema):
    @extend_schema(
        summary="Liveness",
        description="The process answers. No key needed.",
        tags=["Health"],
        responses={200: _Health},
        examples=[OpenApiExample("Alive", value={"status": "ok"}, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        raise NotImplementedError


_READY = {
    "checks": {"database": True, "broker": True, "cache": True, "beat": True},
    "beat": {"ticking": True, "disabled": [], "missing": []},
}


class ReadyzSchema(PlainViewSchema):
    @extend_schema(
        summary="Readiness",
        description=(
            "What the process depends on answers. Without the database it is 503 "
            "`unavailable`; a broker, cache or beat that is down makes it 200 `degraded`, "
            "naming them (messages are still taken and stored). No key needed."
        ),
        tags=["Health"],
        responses={
            200: OpenApiResponse(_Ready, description="Ready, or degraded."),
            503: OpenApiResponse(_Ready, description="The database is unreachable."),
        },
        examples=[
            OpenApiExample(
                "Ready",
                value={**_READY, "status": "ok", "degraded": []},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Broker down",
                value={
                    **_READY,
                    "status": "degraded",
                    "checks": {**_READY["checks"], "broker": False},
                    "degraded": ["broker"],
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Database down",
                value={
                    "status": "unavailable",
                    "checks": {"database": False, "broker": True, "cache": True, "beat": False},
                    "degraded": ["beat", "database"],
                    "beat": {"ticking": False, "disabled": [], "missing": []},
                },
                response_only=True,
                status_codes=["503"],
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        raise NotImplementedError
