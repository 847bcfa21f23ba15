"""Cache entries an API request is about to read, fetched in the round trip its rate
limit makes to the cache anyway (workspaces.auth), so that each costs no round trip of
its own.

An app registers a function giving, for a workspace, the key of an entry it reads on the
API's hot path (webhooks: whether the workspace has an endpoint). The rate limiter reads
those entries with its counter and keeps what it read for the rest of the request; the
API's base view forgets it when the request ends. Outside an API request (workers,
inbound webhooks, the admin) nothing is kept, and readers ask the cache themselves.

What is kept was read as the request began, a few milliseconds before the reader would
have read it: an entry changed meanwhile is seen changed by the next request."""

import uuid
from collections.abc import Callable
from contextvars import ContextVar

_key_functions: list[Callable[[uuid.UUID], str]] = []
_kept: ContextVar[dict[str, object] | None] = ContextVar("prefetched", default=None)


def read_with_rate_limit(key_for: Callable[[uuid.UUID], str]) -> None:
    """Registers `key_for(workspace_id)`, a cache key (as given to Django's cache) that
    API requests of the workspace will read."""
    if key_for not in _key_functions:
        _key_functions.append(key_for)


def keys_for(workspace_id: uuid.UUID) -> list[str]:
    return [key_for(workspace_id) for key_for in _key_functions]


def keep(values: dict[str, object]) -> None:
    """What the rate limiter read, by key, for the rest of this request."""
    _kept.set(values)


def forget() -> None:
    _kept.set(None)


def recall(key: str) -> tuple[bool, object]:
    """(True, the value read, None when the entry was missing) when this request read
    `key` already; (False, None) when the reader must ask the cache itself."""
    kept = _kept.get()
    if kept is None or key not in kept:
        return False, None
    return True, kept[key]
