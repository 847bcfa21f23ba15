"""Each app's API routes, the same way: viewsets under their prefixes, no trailing slash."""

from django.urls import URLPattern
from rest_framework.routers import SimpleRouter

# Ids in URLs are UUIDs; routes that sit beside non-id paths match only those.
UUID = "[0-9a-fA-F-]{36}"


def routes(*registrations: tuple[str, type, str]) -> list[URLPattern]:
    """The URL patterns of (prefix, viewset, basename) registrations."""
    router = SimpleRouter(trailing_slash=False)
    for prefix, viewset, basename in registrations:
        router.register(prefix, viewset, basename=basename)
    return router.urls
