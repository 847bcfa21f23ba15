"""One error shape for everything the API answers.

`{"status": "error", "message": "...", "code": "...", "data": null}`, plus
`errors: {field: [messages]}` on validation errors. DRF's exceptions come through
`api_exception_handler`; Django's own 404, 405 and 500 on API paths through
`ApiErrorMiddleware`, so the shape holds even where DRF never ran.
"""

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)

INVALID_TOKEN = "Invalid or expired token."  # noqa: S105 (a message, not a secret)


class ApplicationError(Exception):
    """A failure the client can act on, with a stable code and an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "bad_request",
        status_code: int = status.HTTP_400_BAD_REQUEST,
        errors: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.errors = errors


class NotFound(ApplicationError):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message, code="not_found", status_code=status.HTTP_404_NOT_FOUND)


class Conflict(ApplicationError):
    def __init__(self, message: str, *, code: str = "conflict") -> None:
        super().__init__(message, code=code, status_code=status.HTTP_409_CONFLICT)


class ImmediateResponse(Exception):
    """Ends a request early with a ready answer (e.g. an idempotent replay)."""

    def __init__(self, response: object) -> None:
        super().__init__("immediate response")
        self.response = response


def error_body(message: str, code: str, errors: dict | None = None) -> dict:
    body: dict = {"status": "error", "message": message, "code": code, "data": None}
    if errors is not None:
        body["errors"] = errors
    return body


def _flatten(detail: object, prefix: str = "") -> dict[str, list]:
    """{'a': {'b': {'c': [e]}}} -> {'a.b.c': [e]}: field paths as clients write them."""
    if isinstance(detail, dict):
        out: dict[str, list] = {}
        for key, value in detail.items():
            name = str(key) if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (prefix or name)
            out.update(_flatten(value, path))
        return out
    if isinstance(detail, list) and detail and all(isinstance(d, dict | list) for d in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}[{index}]"))
        return out
    items = detail if isinstance(detail, list) else [detail]
    return {prefix: list(items)}


def _sentence(field: str, error: exceptions.ErrorDetail | str) -> str:
    """The seed's style: "Field 'text' is required."."""
    text = str(error)
    code = getattr(error, "code", None)
    if not field:
        return text
    if code == "required":
        return f"Field '{field}' is required."
    if code == "null":
        return f"Field '{field}' may not be null."
    if code == "unknown_field":
        return f"Field '{field}' is not recognised."
    if code == "blank":
        return f"Field '{field}' may not be blank."
    return f"Field '{field}' is invalid: {text}"


def validation_error_body(detail: object) -> dict:
    flat = _flatten(detail)
    errors = {field: [str(e) for e in errs] for field, errs in flat.items()}
    first_field, first_errors = next(iter(flat.items()), ("", ["Invalid input."]))
    message = _sentence(first_field, first_errors[0]) if first_errors else "Invalid input."
    return error_body(
        message, "validation_error", {k or "non_field_errors": v for k, v in errors.items()}
    )


_CODES = {
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "unauthorized",
    exceptions.AuthenticationFailed: "unauthorized",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def api_exception_handler(exc: Exception, context: dict):
    """DRF's EXCEPTION_HANDLER: every error in the seed 001 envelope."""
    # Imported here: rest_framework.views imports the authentication classes, which
    # import this module for INVALID_TOKEN.
    from rest_framework.response import Response
    from rest_framework.views import exception_handler

    if isinstance(exc, ImmediateResponse):
        return exc.response
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("The request body is too large.", "payload_too_large"), status=413
        )
    if isinstance(exc, ApplicationError):
        body = error_body(exc.message, exc.code, exc.errors)
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django answers 500 and the middleware shapes it

    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_error_body(exc.detail)
        return response
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response.data = error_body(INVALID_TOKEN, "unauthorized")
        return response
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    detail = getattr(exc, "detail", "")
    message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
    if isinstance(exc, exceptions.Throttled):
        message = "Too many requests. Retry after the number of seconds in Retry-After."
    response.data = error_body(message, code)
    return response


_STATUS_CODES = {
    400: ("bad_request", "Bad request."),
    403: ("forbidden", "Forbidden."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    500: ("server_error", "Internal server error."),
}


def is_api_path(path: str) -> bool:
    return path.startswith("/v1/") and not path.startswith("/v1/docs")


class ApiErrorMiddleware:
    """Puts Django's own error answers on API paths (unknown URL, a view's 500,
    a bad Host) into the API's error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            is_api_path(request.path)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _STATUS_CODES.get(response.status_code, ("error", "Request failed."))
            shaped = JsonResponse(error_body(message, code), status=response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        if isinstance(exception, Http404):
            return JsonResponse(error_body("Not found.", "not_found"), status=404)
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(
                error_body("The request body is too large.", "payload_too_large"), status=413
            )
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return JsonResponse(error_body("Internal server error.", "server_error"), status=500)
