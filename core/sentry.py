"""Sentry, switched on by SENTRY_DSN (config.settings calls `sentry_init`).

Messages may hold protected health information, so no event leaves with a request
body, a query string, cookies, local variables or any value under a key that names
message content (`text`, `body`, `content`, `metadata`), wherever it sits in the event.
"""

from typing import Any

FILTERED = "[Filtered]"
# Keys whose values may be a customer's words, anywhere in an event (extra, contexts,
# breadcrumbs' data, Celery's task arguments, a request's parsed data).
PHI_KEYS = frozenset({"text", "body", "content", "metadata"})
# Request fields that may carry them: the body, the query string (unsubscribe tokens,
# search terms) and cookies.
_REQUEST_DROPPED = ("data", "query_string", "cookies")
# Credentials, in case a header list ever reaches an event.
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "x-twilio-signature"})


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: FILTERED if isinstance(key, str) and key.lower() in PHI_KEYS else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's `before_send` (and `before_send_transaction`): the event without PHI."""
    request = event.get("request")
    if isinstance(request, dict):
        for field in _REQUEST_DROPPED:
            request.pop(field, None)
        url = request.get("url")
        if isinstance(url, str) and "?" in url:
            request["url"] = url.split("?", 1)[0]
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: FILTERED if name.lower() in _SECRET_HEADERS else value
                for name, value in headers.items()
            }
    return _scrub(event)


def sentry_init(*, dsn: str, environment: str, release: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Only these two: the auto-enabled ones (Anthropic, httpx, Redis...) would record
        # spans of calls whose arguments can be message text.
        auto_enabling_integrations=False,
        send_default_pii=False,
        # Never read a request body into an event, and no frame's local variables (a
        # local may hold a message's text under any name).
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,
        before_send_transaction=scrub_event,
    )
