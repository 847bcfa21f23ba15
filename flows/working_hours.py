"""Working-hours windows: when a flow may contact someone, evaluated in a chosen IANA zone.

Semantics
---------
* A configuration yields one *window* per allowed day ``D`` (``days`` holds ISO weekdays,
  1=Mon..7=Sun; ``None`` means every day). Each window is a half-open span of instants
  ``[opening, closing)``:

  - ``start < end``: from ``start`` on ``D`` to ``end`` on ``D``.
  - ``start > end``: the window crosses midnight and belongs to the day it STARTS on: from
    ``start`` on ``D`` to ``end`` on ``D+1``. With ``days={Mon}`` and 22:00-06:00, Monday
    23:00 and Tuesday 03:00 are open, Monday 03:00 is not (that is Sunday's window).
  - ``start == end``: a full 24-hour day starting at ``start`` on ``D`` and ending at ``start``
    on ``D+1`` (so 00:00-00:00 means "all of D"). With every day allowed this is always open.

* Wall-clock times are turned into instants by taking the FIRST instant at which the local
  clock reads that time or later:

  - spring-forward gap (e.g. 02:30 in America/New_York on 2026-03-08 does not exist): the
    moment the clock jumps, i.e. 03:00 local / 07:00 UTC;
  - fall-back repetition (01:30 happens twice on 2026-11-01): the first occurrence (fold=0).

  A window is therefore one contiguous span; it does not close and reopen because the clock
  repeats an hour. A window lying entirely inside a DST gap is empty for that day.

* ``enabled=False`` means no restriction: always open, ``next_closing`` is ``None``.
* All instants passed in must be timezone-aware. Returned instants are in UTC, except that
  ``next_opening``/``next_closing`` return the argument unchanged when it already qualifies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

__all__ = [
    "WorkingHours",
    "is_open",
    "next_closing",
    "next_opening",
    "parse_hhmm",
    "validate_timezone",
]

UTC = dt.UTC
ALL_DAYS = frozenset(range(1, 8))
DAY_NAMES = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = dt.timedelta(seconds=1)
# A single allowed day recurs every 7 days; the margin covers a week whose window vanished
# into a DST gap and windows whose local date shifts around midnight transitions.
_SEARCH_DAYS = 16


# Files of the tz database that are no place: the machine's own zone, a placeholder
# zone, and the alternative trees.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Scanning the tz database is slow; the set does not change while the process runs.
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


def parse_hhmm(value: str) -> dt.time:
    """Parse a strict 24-hour ``"HH:MM"`` string (two digits each, 00:00-23:59)."""
    if not isinstance(value, str):
        raise ValueError(f"time must be a string in HH:MM format, got {type(value).__name__}")
    hh, sep, mm = value.partition(":")
    if not (sep and len(hh) == 2 and len(mm) == 2 and (hh + mm).isascii() and (hh + mm).isdigit()):
        raise ValueError(f"time must be in 24-hour HH:MM format, got {value!r}")
    hour, minute = int(hh), int(mm)
    if hour > 23 or minute > 59:
        raise ValueError(f"time out of range (00:00-23:59), got {value!r}")
    return dt.time(hour, minute)


def validate_timezone(name: str) -> str:
    """Return ``name`` if it is a known IANA zone name, else raise ValueError."""
    if not isinstance(name, str) or not name:
        raise ValueError("timezone must be a non-empty IANA name such as 'Europe/London'")
    # Membership in the scanned set rules out paths ("../etc", "/etc/passwd") and stray
    # non-zone files in the database directory, which ZoneInfo() alone might open.
    if name not in _known_zones():
        raise ValueError(f"unknown timezone {name!r}; expected an IANA name like 'Europe/London'")
    return name


def _parse_day(value: Any) -> int:
    if isinstance(value, str) and value in DAY_NAMES:
        return DAY_NAMES[value]
    # bool is an int subclass; True must not silently mean Monday.
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7:
        return value
    raise ValueError(f"day must be 1-7 (Mon-Sun) or one of {', '.join(DAY_NAMES)}; got {value!r}")


@dataclass(frozen=True)
class WorkingHours:
    enabled: bool
    start: dt.time
    end: dt.time
    timezone: str
    days: frozenset[int] | None = None

    def __post_init__(self) -> None:
        for label, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, dt.time) or value.tzinfo is not None:
                raise ValueError(f"{label} must be a naive datetime.time, got {value!r}")
        validate_timezone(self.timezone)
        if self.days is not None:
            if isinstance(self.days, str | bytes):
                raise ValueError("days must be a collection of weekdays, not a string")
            days = frozenset(_parse_day(d) for d in self.days)
            if not days:
                raise ValueError("days must not be empty; use None for every day")
            # Normalise any iterable to frozenset so equality and hashing behave.
            object.__setattr__(self, "days", days)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> WorkingHours:
        """Build from the API shape ``{"enabled", "start", "end", "timezone", "days"?}``."""
        if not isinstance(settings, dict):
            raise ValueError("working hours settings must be an object")
        missing = [k for k in ("enabled", "start", "end", "timezone") if k not in settings]
        if missing:
            raise ValueError(f"working hours settings missing: {', '.join(missing)}")
        enabled = settings["enabled"]
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled must be true or false, got {enabled!r}")
        days = settings.get("days")
        if days is not None and not isinstance(days, list | tuple | set | frozenset):
            raise ValueError(f"days must be a list of weekdays, got {days!r}")
        if days is not None:
            if len(days) > 7:
                raise ValueError("days has at most 7 entries, one per weekday")
            parsed = [_parse_day(d) for d in days]
            if len(parsed) != len(set(parsed)):
                raise ValueError("days must name each weekday at most once")
        return cls(
            enabled=enabled,
            start=parse_hhmm(settings["start"]),
            end=parse_hhmm(settings["end"]),
            timezone=validate_timezone(settings["timezone"]),
            days=None if days is None else frozenset(_parse_day(d) for d in days),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def always_open(self) -> bool:
        return not self.enabled or (self.start == self.end and self.days in (None, ALL_DAYS))


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"instant must be timezone-aware, got naive {instant!r}")
    return instant.astimezone(UTC)


def _wall(instant: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _first_instant_at(tz: ZoneInfo, wall: dt.datetime) -> dt.datetime:
    """The first UTC instant at which the local clock in ``tz`` reads ``wall`` or later."""
    # fold=0 is the earlier reading of a repeated time, which is the one we want.
    early = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(early, tz) == wall:
        return early
    # ``wall`` fell into a gap. fold=1 maps it to an instant before the jump (clock < wall),
    # fold=0 to one after it (clock > wall); bisect whole seconds, as tz transitions are.
    lo = (wall.replace(tzinfo=tz, fold=1).astimezone(UTC) - _EPOCH) // _SECOND
    hi = -((_EPOCH - early) // _SECOND)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wall(_EPOCH + mid * _SECOND, tz) >= wall:
            hi = mid
        else:
            lo = mid
    return _EPOCH + hi * _SECOND


def _windows(
    hours: WorkingHours, first: dt.date, last: dt.date
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Non-empty ``(opening, closing)`` UTC spans of allowed days in ``first..last``, in order."""
    tz = hours.tz
    end_offset = dt.timedelta(days=1 if hours.start >= hours.end else 0)
    day = first
    while day <= last:
        if hours.days is None or day.isoweekday() in hours.days:
            opening = _first_instant_at(tz, dt.datetime.combine(day, hours.start))
            closing = _first_instant_at(tz, dt.datetime.combine(day + end_offset, hours.end))
            if closing > opening:
                yield opening, closing
        day += dt.timedelta(days=1)


def _local_date(at: dt.datetime, hours: WorkingHours) -> dt.date:
    return at.astimezone(hours.tz).date()


def _containing_window(
    at: dt.datetime, hours: WorkingHours
) -> tuple[dt.datetime, dt.datetime] | None:
    today = _local_date(at, hours)
    # Yesterday's window may cross midnight; the extra day each side absorbs DST changes
    # at midnight that shift an instant's local date.
    first, last = today - dt.timedelta(days=2), today + dt.timedelta(days=1)
    for opening, closing in _windows(hours, first, last):
        if opening <= at < closing:
            return opening, closing
    return None


def is_open(instant: dt.datetime, hours: WorkingHours) -> bool:
    """Whether ``instant`` (timezone-aware) falls inside a working-hours window."""
    at = _utc(instant)
    if hours.always_open:
        return True
    return _containing_window(at, hours) is not None


def next_opening(instant: dt.datetime, hours: WorkingHours) -> dt.datetime:
    """``instant`` if open, else the earliest UTC instant after it at which ``is_open`` holds."""
    at = _utc(instant)
    if hours.always_open or _containing_window(at, hours) is not None:
        return instant
    today = _local_date(at, hours)
    last = today + dt.timedelta(days=_SEARCH_DAYS)
    # Openings increase with the day, so the first one not in the past is the earliest.
    for opening, _closing in _windows(hours, today - dt.timedelta(days=2), last):
        if opening >= at:
            return opening
    raise AssertionError(f"no opening within {_SEARCH_DAYS} days for {hours!r}")  # unreachable


def next_closing(instant: dt.datetime, hours: WorkingHours) -> dt.datetime | None:
    """``instant`` if closed, else the UTC instant the current open stretch ends.

    ``None`` when the configuration never closes. Back-to-back windows (``start == end`` on
    consecutive days) count as one stretch.
    """
    at = _utc(instant)
    if hours.always_open:
        return None
    current = _containing_window(at, hours)
    if current is None:
        return instant
    closing = current[1]
    today = _local_date(at, hours)
    for opening, later_closing in _windows(hours, today, today + dt.timedelta(days=_SEARCH_DAYS)):
        if opening <= closing < later_closing:
            closing = later_closing
    return closing
