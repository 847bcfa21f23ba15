"""The schema's composition: the plain Django views (health, the unsubscribe page,
anymail's inbound email view) that drf-spectacular cannot see, since it only walks DRF
views. Each is documented by a documentation-only DRF view (core.openapi.PlainViewSchema)
that this preprocessing hook (SPECTACULAR_SETTINGS) puts at the path the URLconf gives
the view it documents, so the paths are said once, in the URLconf."""

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import EndpointEnumerator

from channels.email_inbound import postmark_inbound
from conversations.edges.email import email_unsubscribe
from conversations.edges.openapi import PostmarkInboundSchema, UnsubscribeSchema
from core.health import healthz, readyz
from core.openapi import HealthzSchema, ReadyzSchema

PLAIN_VIEWS = {
    healthz: HealthzSchema,
    readyz: ReadyzSchema,
    email_unsubscribe: UnsubscribeSchema,
    postmark_inbound: PostmarkInboundSchema,
}


def _plain_routes(patterns: list, prefix: str = "") -> Iterator[tuple[str, object]]:
    for pattern in patterns:
        regex = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _plain_routes(pattern.url_patterns, regex)
        elif isinstance(pattern, URLPattern) and pattern.callback in PLAIN_VIEWS:
            yield regex, pattern.callback


def document_plain_views(endpoints: list) -> list:
    enumerator = EndpointEnumerator()
    documented = []
    for regex, callback in _plain_routes(get_resolver().url_patterns):
        view = PLAIN_VIEWS[callback].as_view()
        path = enumerator.get_path_from_regex(regex)
        documented += [(path, regex, m, view) for m in enumerator.get_allowed_methods(view)]
    return [*endpoints, *documented]
