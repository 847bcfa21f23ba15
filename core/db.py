"""Connections the request path reuses: the database's (handed back during long waits)
and the cache's redis-py client."""

from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection


def release_connection() -> None:
    """Hand the database connection back (to the pool, on PostgreSQL) before a long wait
    on the network, such as a model call; the next query takes one again. Inside a
    transaction the connection is kept: closing it would end the transaction."""
    if not connection.in_atomic_block:
        connection.close()


def reconnect() -> None:
    """After the database dropped this thread's connection (a restart, a failover, an
    administrator's terminate): hand it back and have the pool test the idle ones, so
    the next query gets a live connection rather than another dead one from the pool."""
    connection.close()
    pool = getattr(connection, "pool", None)  # PostgreSQL with a pool; None elsewhere
    if pool is not None:
        pool.check()


def cache_backend() -> BaseCache:
    """The default cache itself (`django.core.cache.cache` is a proxy to it)."""
    return caches[DEFAULT_CACHE_ALIAS]


def redis_client(backend: BaseCache) -> object | None:
    """A redis-py client on the cache's connection pool when the cache is Redis, else
    None. Django's RedisCache builds a new client for every call, and redis-py's
    constructor copies its table of reply callbacks (about 0.1 ms, a tenth of a bare
    request); the API's own round trips (rate limit, webhook-endpoint check) reuse one
    per backend instead. Django keeps a backend per thread, so it is never shared."""
    if not isinstance(backend, RedisCache):
        return None
    client = backend.__dict__.get("_reused_client")
    if client is None:
        client = backend.__dict__["_reused_client"] = backend._cache.get_client(write=True)
    return client
