"""Request size, checked before anything else: an oversized body is a 413 in the API's
error shape before authentication, parsing or any database work."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core.errors import error_body


def body_too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        error_body(f"The request body is larger than {limit} bytes.", "payload_too_large"),
        status=413,
    )


class RequestSizeLimitMiddleware:
    """Refuses a declared Content-Length over API_MAX_BODY_BYTES on /v1/ paths at once;
    a body without one (chunked) is cut at the same size by Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE, which the error handlers also answer with 413."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/v1/"):
            limit = settings.API_MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return body_too_large(limit)
        return self.get_response(request)
