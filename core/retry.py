"""Retry timing shared by every retrying task family (replies, sends, webhook
deliveries): one backoff formula and one Retry-After parser."""

import random
from datetime import datetime
from email.utils import parsedate_to_datetime

from django.utils import timezone


def nominal_delay(attempt: int, *, first: float, cap: float) -> float:
    """Seconds before attempt `attempt + 1` after `attempt` failed ones, before jitter:
    `first`, then doubling, never more than `cap`."""
    return min(cap, first * 2 ** max(0, attempt - 1))


def backoff(
    attempt: int,
    *,
    first: float,
    cap: float,
    spread: tuple[float, float] = (0.5, 1.0),
    at_least: float | None = None,
) -> float:
    """The nominal delay times a random factor within `spread` (jitter keeps work that
    failed together from returning together), and never less than what the provider
    asked for (`at_least`, from its Retry-After)."""
    delay = nominal_delay(attempt, first=first, cap=cap) * random.uniform(*spread)  # noqa: S311
    return max(at_least or 0.0, delay)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """An HTTP Retry-After header in seconds: delta-seconds or an HTTP date."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no answer
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or timezone.now())).total_seconds())
