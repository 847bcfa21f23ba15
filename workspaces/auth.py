"""API authentication, scopes and rate limits, all keyed on the API key."""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core import prefetch
from core.db import cache_backend, redis_client
from core.errors import INVALID_TOKEN
from workspaces.models import ApiKey
from workspaces.services import api_key_authenticate

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiClient:
    """The `request.user` of an API request: the holder of an API key."""

    api_key: ApiKey
    is_authenticated: bool = True
    is_anonymous: bool = False

    @property
    def pk(self) -> str:
        return str(self.api_key.pk)


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>` or `X-API-Key: <key>`."""

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        raw_key = ""
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise exceptions.AuthenticationFailed(INVALID_TOKEN)
            raw_key = value.strip()
        else:
            raw_key = request.META.get("HTTP_X_API_KEY", "").strip()
        if not raw_key:
            return None
        api_key = api_key_authenticate(raw_key, cache_seconds=settings.API_KEY_CACHE_SECONDS)
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN)
        return ApiClient(api_key=api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no key was given.
        return 'Bearer realm="api"'


class HasApiKeyScope(BasePermission):
    """Reads need the `read` scope, everything else `write`."""

    message = "This API key does not have the scope this request needs."

    def has_permission(self, request: Request, view: object) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        needed = "read" if request.method in SAFE_METHODS else "write"
        if not api_key.has_scope(needed):
            self.message = f"This API key lacks the '{needed}' scope."
            return False
        return True


class ApiKeyRateThrottle(BaseThrottle):
    """API_RATE_LIMIT per API key, in fixed windows: one counter per key and window,
    so a request costs one cache round trip whatever the limit (DRF's SimpleRateThrottle
    reads and rewrites a list of every request in the window). When the cache is down
    the request is let through and the outage logged: the limit protects the service,
    it must not take it down."""

    def allow_request(self, request: Request, view: object) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        rate = api_settings.DEFAULT_THROTTLE_RATES.get("api_key")
        if not rate:
            return True
        allowed, period = _parse_rate(rate)
        now = _clock()
        window = int(now // period)
        # Only requests that write record events, and ask what apps registered.
        writes = request.method not in SAFE_METHODS
        reads = prefetch.keys_for(request.auth.workspace_id) if writes else []
        try:
            count, read = _count_hit(f"throttle:api_key:{request.auth.pk}:{window}", period, reads)
        except Exception:
            _log_outage()
            return True
        if read:
            prefetch.keep(dict(zip(reads, read, strict=True)))
        self._wait = (window + 1) * period - now
        return count <= allowed

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


def _clock() -> float:
    return time.time()


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_rate(rate: str) -> tuple[int, int]:
    """DRF's syntax: "600/min" -> (600, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _PERIODS[unit.strip()[0]]


def _count_hit(key: str, period: int, reads: list[str]) -> tuple[int, list | None]:
    """Adds one to the window's counter and returns it, with the values of the cache
    keys `reads` (core.prefetch) when the cache is Redis (else None), in one round trip
    whatever the limit: with keys to read, one script (the counter's expiry set with
    its first hit); without, an INCR, and for the window's first hit an EXPIRE after it
    (a script costs a read more Python than an INCR). Should a process die between
    those two, one counter of a past window is left without an expiry: never read
    again, a few bytes. Add-then-incr on the embedded file cache."""
    backend = cache_backend()
    client = redis_client(backend)
    if client is None:
        cache.add(key, 0, timeout=period + 1)
        return cache.incr(key), None
    # Keys of our own making, fit for Redis: not checked character by character for
    # memcached's sake (make_and_validate_key).
    if not reads:
        full_key = backend.make_key(key)
        count = int(client.incr(full_key))
        if count == 1:
            client.expire(full_key, period + 1)
        return count, []
    keys = [backend.make_key(k) for k in (key, *reads)]
    count, *read = _script(client)(keys=keys, args=[period + 1], client=client)
    return int(count), read


# The window's counter, its expiry on the first hit, and the other keys' values. A
# missing key's GET is false in Lua, which Redis answers as nil (None).
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local found = {count}
for i = 2, #KEYS do found[i] = redis.call('GET', KEYS[i]) end
return found
"""


def _script(client: object) -> object:
    """The script, registered once per client (redis-py sends it by its hash, and
    loads it again if the server lost it)."""
    script = getattr(client, "_rate_limit_script", None)
    if script is None:
        script = client._rate_limit_script = client.register_script(_HIT)
    return script


_last_outage_log = 0.0


def _log_outage() -> None:
    """Once a minute at most: a cache outage must not flood the log either."""
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log > 60:
        _last_outage_log = now
        logger.warning("Rate limiting is off: the cache is unreachable", exc_info=True)
