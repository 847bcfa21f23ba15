"""Working hours in the recipient's own time, pure (no ORM).

A flow may say its working hours apply in each recipient's local time. The recipient's
zone is, in this order:

1. the zone the client gave for the customer (`customerDetails.timezone`), if it is an
   IANA name;
2. the zone of the phone number (phonenumbers' timezone data). A number may belong to
   several zones (an area code across a state line, a country's mobile range). Then at
   any instant the zone whose clock is the latest behind (the smallest UTC offset) is
   the one that counts: it opens last, so nobody is woken by a message that is early
   for them. A number whose zones are further apart than MAX_SPREAD (a toll-free or a
   whole-country range) says nothing about where its owner is: next rule;
3. the flow's own zone.

With one zone everything is flows.working_hours in that zone, so a flow in its own
zone behaves exactly as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_zones

from flows.working_hours import WorkingHours, is_open, next_closing, next_opening, validate_timezone

__all__ = ["MAX_SPREAD", "RecipientHours", "recipient_zones", "zones_for_number"]

# Zones further apart than this are not one place: the number tells nothing.
MAX_SPREAD = dt.timedelta(hours=6)
_UNKNOWN = "Etc/Unknown"
# A reference instant for the spread test; offsets differ by an hour at most over a year.
_REFERENCE = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
_SECOND = dt.timedelta(seconds=1)


def _known(zone: str) -> bool:
    try:
        validate_timezone(zone)
    except ValueError:
        return False
    return True


def _spread(zones: tuple[str, ...]) -> dt.timedelta:
    offsets = [_REFERENCE.astimezone(ZoneInfo(zone)).utcoffset() for zone in zones]
    return max(offsets) - min(offsets)


@lru_cache(maxsize=8192)
def zones_for_number(e164: str) -> tuple[str, ...]:
    """The IANA zones an E.164 number may be in, sorted; () when the number says nothing
    about a place (unknown, or zones more than MAX_SPREAD apart)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(
        sorted(
            zone
            for zone in number_zones.time_zones_for_number(number)
            if zone != _UNKNOWN and _known(zone)
        )
    )
    if not zones or _spread(zones) > MAX_SPREAD:
        return ()
    return zones


def recipient_zones(
    *, declared: object, channel: str, address: str, fallback: str
) -> tuple[str, ...]:
    """The zones whose clock counts for a recipient (see the module's doc)."""
    if isinstance(declared, str) and declared and _known(declared):
        return (declared,)
    if channel == "SMS":
        zones = zones_for_number(address)
        if zones:
            return zones
    return (fallback,)


@dataclass(frozen=True)
class RecipientHours:
    """A flow's working hours evaluated in a recipient's zones (one or more)."""

    hours: WorkingHours
    zones: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.zones:
            raise ValueError("zones must name at least one zone")

    @classmethod
    def of(cls, hours: WorkingHours) -> RecipientHours:
        """The hours in their own zone: exactly flows.working_hours."""
        return cls(hours, (hours.timezone,))

    def _in(self, zone: str) -> WorkingHours:
        return self.hours if zone == self.hours.timezone else replace(self.hours, timezone=zone)

    def zone_at(self, instant: dt.datetime) -> str:
        """The zone that counts at `instant`: the one whose clock is furthest behind."""
        if len(self.zones) == 1:
            return self.zones[0]
        return min(
            self.zones, key=lambda zone: (instant.astimezone(ZoneInfo(zone)).utcoffset(), zone)
        )

    def is_open(self, instant: dt.datetime) -> bool:
        return is_open(instant, self._in(self.zone_at(instant)))

    def next_opening(self, instant: dt.datetime) -> dt.datetime:
        """`instant` if open, else the earliest instant after it that is open."""
        if len(self.zones) == 1:
            return next_opening(instant, self._in(self.zones[0]))
        at = instant
        for _ in range(8):
            if self.is_open(at):
                return at
            # The first open instant is an opening of the zone that counts then; which
            # zone that is changes only at a DST switch, hence the few rounds.
            candidates = sorted({next_opening(at, self._in(zone)) for zone in self.zones})
            for candidate in candidates:
                if self.is_open(candidate):
                    return candidate
            at = candidates[-1] + _SECOND
        return next_opening(at, self._in(self.zone_at(at)))  # not reached in practice

    def next_closing(self, instant: dt.datetime) -> dt.datetime | None:
        """`instant` if closed, else when the zone that counts now closes (None: never)."""
        return next_closing(instant, self._in(self.zone_at(instant)))
