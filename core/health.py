"""/healthz: the process answers. /readyz: what it depends on answers too.

The database is the one thing the API cannot work without: when it is down, /readyz is
503. The broker and the cache (Redis) only speed things up — messages are still taken
and stored, and the beat sweeps enqueue what is owed once the broker is back — and beat
itself can stop (sends then wait): those make the answer 200 "degraded", naming them,
so a load balancer keeps the process in rotation while an operator is told."""

import logging
from datetime import timedelta

from celery import current_app as celery_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

logger = logging.getLogger(__name__)

# Beat counts as stopped when its most frequent entry has not run for this long.
BEAT_STALE = timedelta(seconds=60)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.exception("readyz: database unreachable")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("readyz: broker unreachable", exc_info=True)
        return False


def _cache_ok() -> bool:
    try:
        cache.set("readyz", "1", timeout=5)
        return cache.get("readyz") == "1"
    except Exception:
        logger.warning("readyz: cache unreachable", exc_info=True)
        return False


def beat_state() -> dict:
    """Whether beat is ticking (its schedule's entries ran recently) and which of the
    service's own periodic tasks are disabled (every send depends on them)."""
    names = list(settings.CELERY_BEAT_SCHEDULE)
    entries = {task.name: task for task in PeriodicTask.objects.filter(name__in=names)}
    disabled = sorted(name for name, task in entries.items() if not task.enabled)
    runs = [task.last_run_at for task in entries.values() if task.last_run_at]
    ticking = bool(runs) and max(runs) >= timezone.now() - BEAT_STALE
    return {"ticking": ticking, "disabled": disabled, "missing": sorted(set(names) - set(entries))}


def readyz(request: HttpRequest) -> JsonResponse:
    database = _database_ok()
    checks = {"database": database, "broker": _broker_ok(), "cache": _cache_ok()}
    beat = beat_state() if database else {"ticking": False, "disabled": [], "missing": []}
    checks["beat"] = beat["ticking"] and not beat["disabled"]
    degraded = sorted(name for name, ok in checks.items() if not ok)
    status = "ok" if not degraded else ("unavailable" if not database else "degraded")
    return JsonResponse(
        {"status": status, "checks": checks, "degraded": degraded, "beat": beat},
        status=503 if not database else 200,
    )
