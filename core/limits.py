"""Request size, checked before anything else: an oversized body is a 413 in the API's
error shape before authentication, parsing or any database work."""

from collections.abc import Callable
from io import BytesIO

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import error_body


def body_too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        error_body(f"The request body is larger than {limit} bytes.", "payload_too_large"),
        status=413,
    )


def body_limit(path: str) -> int:
    """The largest body a /v1/ path takes: API_MAX_BODY_BYTES, or the path's own limit in
    API_MAX_BODY_BYTES_BY_PATH (exact paths, e.g. a campaign's upload)."""
    overrides = getattr(settings, "API_MAX_BODY_BYTES_BY_PATH", {}) or {}
    return overrides.get(path, settings.API_MAX_BODY_BYTES)


class RequestSizeLimitMiddleware:
    """Refuses a declared Content-Length over the path's limit on /v1/ paths at once; a
    body without one (chunked) is cut at the same size: by Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE (= API_MAX_BODY_BYTES), which the error handlers also
    answer with 413, or here for a path with a limit of its own.

    A path with a larger limit has its body read here, up to that limit, so Django's
    global DATA_UPLOAD_MAX_MEMORY_SIZE (checked when the body is first read) does not
    refuse it later."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/v1/"):
            limit = body_limit(request.path)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return body_too_large(limit)
            if limit > settings.API_MAX_BODY_BYTES and request.method in ("POST", "PUT", "PATCH"):
                body = request.read(limit + 1)
                if len(body) > limit:
                    return body_too_large(limit)
                request._body = body
                request._stream = BytesIO(body)
        return self.get_response(request)
