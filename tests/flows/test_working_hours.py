import datetime as dt
from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from flows.working_hours import (
    WorkingHours,
    is_open,
    next_closing,
    next_opening,
    parse_hhmm,
    validate_timezone,
)

UTC = dt.UTC
NY = ZoneInfo("America/New_York")
MINUTE = dt.timedelta(minutes=1)
MON, TUE, WED, SUN = 1, 2, 3, 7


def hours(
    start: str, end: str, tz: str = "UTC", days: set[int] | None = None, enabled: bool = True
) -> WorkingHours:
    return WorkingHours(
        enabled, parse_hhmm(start), parse_hhmm(end), tz, None if days is None else frozenset(days)
    )


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def ny(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY, fold=fold)


# 2026-03-02 is a Monday.


def test_ordinary_window_includes_start_and_excludes_end() -> None:
    h = hours("09:00", "17:00")
    assert not is_open(utc(2026, 3, 2, 8, 59, 59), h)
    assert is_open(utc(2026, 3, 2, 9, 0), h)
    assert is_open(utc(2026, 3, 2, 16, 59, 59, 999999), h)
    assert not is_open(utc(2026, 3, 2, 17, 0), h)


def test_window_is_evaluated_in_its_own_timezone_whatever_the_instants_zone() -> None:
    h = hours("09:00", "17:00", "Asia/Kathmandu")  # UTC+05:45
    assert is_open(utc(2026, 3, 2, 3, 15), h)
    assert not is_open(utc(2026, 3, 2, 3, 14), h)
    assert is_open(ny(2026, 3, 1, 22, 15), h)


def test_next_opening_returns_the_instant_itself_when_open() -> None:
    h = hours("09:00", "17:00", "America/New_York")
    instant = ny(2026, 3, 2, 10, 7, 3)
    assert next_opening(instant, h) is instant


def test_next_opening_is_later_today_before_the_window_and_tomorrow_after_it() -> None:
    h = hours("09:00", "17:00", "Asia/Kolkata")  # UTC+05:30
    assert next_opening(utc(2026, 3, 2, 1, 0), h) == utc(2026, 3, 2, 3, 30)
    assert next_opening(utc(2026, 3, 2, 12, 0), h) == utc(2026, 3, 3, 3, 30)
    assert next_opening(utc(2026, 3, 2, 1, 0), h).tzinfo is UTC


def test_window_across_midnight_belongs_to_the_day_it_starts() -> None:
    h = hours("22:00", "06:00", days={MON})
    assert is_open(utc(2026, 3, 2, 23, 0), h)  # Monday night
    assert is_open(utc(2026, 3, 3, 3, 0), h)  # Tuesday early morning, still Monday's window
    assert not is_open(utc(2026, 3, 2, 3, 0), h)  # Monday early morning is Sunday's window
    assert not is_open(utc(2026, 3, 3, 6, 0), h)
    assert not is_open(utc(2026, 3, 3, 23, 0), h)
    assert next_opening(utc(2026, 3, 2, 3, 0), h) == utc(2026, 3, 2, 22, 0)


def test_days_of_week_restrict_openings_to_allowed_weekdays() -> None:
    h = hours("09:00", "17:00", days={MON, WED})
    assert is_open(utc(2026, 3, 2, 10, 0), h)
    assert not is_open(utc(2026, 3, 3, 10, 0), h)
    assert next_opening(utc(2026, 3, 2, 18, 0), h) == utc(2026, 3, 4, 9, 0)
    assert next_opening(utc(2026, 3, 4, 18, 0), h) == utc(2026, 3, 9, 9, 0)


def test_a_single_allowed_day_past_its_window_waits_a_full_week() -> None:
    h = hours("09:00", "17:00", "Australia/Lord_Howe", days={MON})
    monday_evening = dt.datetime(2026, 3, 2, 18, 0, tzinfo=ZoneInfo("Australia/Lord_Howe"))
    assert next_opening(monday_evening, h) == utc(2026, 3, 8, 22, 0)  # Mon 09:00 +11:00


def test_start_equal_to_end_means_open_for_24_hours_from_start() -> None:
    h = hours("08:00", "08:00", days={MON})
    assert not is_open(utc(2026, 3, 2, 7, 59), h)
    assert is_open(utc(2026, 3, 2, 8, 0), h)
    assert is_open(utc(2026, 3, 3, 7, 59), h)
    assert not is_open(utc(2026, 3, 3, 8, 0), h)
    assert next_closing(utc(2026, 3, 2, 12, 0), h) == utc(2026, 3, 3, 8, 0)


def test_start_equal_to_end_on_every_day_never_closes() -> None:
    h = hours("00:00", "00:00", "Pacific/Chatham")
    assert is_open(utc(2026, 4, 5, 13, 37), h)
    assert next_closing(utc(2026, 4, 5, 13, 37), h) is None


def test_back_to_back_full_days_close_at_the_end_of_the_last_one() -> None:
    h = hours("00:00", "00:00", days={MON, TUE})
    assert next_closing(utc(2026, 3, 2, 5, 0), h) == utc(2026, 3, 4, 0, 0)


def test_next_closing_is_the_window_end_or_the_instant_itself_when_closed() -> None:
    h = hours("09:00", "17:00", "America/New_York")
    assert next_closing(ny(2026, 3, 2, 10, 0), h) == utc(2026, 3, 2, 22, 0)
    closed = ny(2026, 3, 2, 18, 0)
    assert next_closing(closed, h) is closed


def test_disabled_hours_are_always_open() -> None:
    h = hours("09:00", "10:00", days={MON}, enabled=False)
    instant = utc(2026, 3, 4, 3, 0)
    assert is_open(instant, h)
    assert next_opening(instant, h) is instant
    assert next_closing(instant, h) is None


@pytest.mark.parametrize("func", [is_open, next_opening, next_closing])
def test_naive_datetime_is_rejected(func: Callable[..., object]) -> None:
    naive = dt.datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        func(naive, hours("09:00", "17:00"))


# --- DST: America/New_York springs forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC)
# and falls back 2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).


def test_spring_forward_opening_in_the_gap_is_the_moment_the_clock_jumps() -> None:
    h = hours("02:30", "17:00", "America/New_York")
    assert next_opening(ny(2026, 3, 8, 0, 0), h) == utc(2026, 3, 8, 7, 0)
    assert not is_open(utc(2026, 3, 8, 6, 59, 59), h)
    assert is_open(utc(2026, 3, 8, 7, 0), h)


def test_spring_forward_window_entirely_inside_the_gap_is_skipped_that_day() -> None:
    h = hours("02:10", "02:50", "America/New_York")
    assert next_opening(ny(2026, 3, 8, 0, 0), h) == ny(2026, 3, 9, 2, 10)


def test_fall_back_opening_in_the_repeated_hour_is_the_first_occurrence() -> None:
    h = hours("01:30", "17:00", "America/New_York")
    assert next_opening(ny(2026, 11, 1, 0, 0), h) == utc(2026, 11, 1, 5, 30)


def test_fall_back_window_stays_open_when_the_clock_repeats_an_hour() -> None:
    h = hours("01:30", "17:00", "America/New_York")
    assert is_open(ny(2026, 11, 1, 1, 15, fold=1), h)  # 01:15 EST, after the first 01:30
    assert next_closing(ny(2026, 11, 1, 1, 45), h) == utc(2026, 11, 1, 22, 0)


def test_fall_back_window_ending_in_the_repeated_hour_ends_at_its_first_occurrence() -> None:
    h = hours("00:00", "01:30", "America/New_York")
    assert next_closing(ny(2026, 11, 1, 0, 10), h) == utc(2026, 11, 1, 5, 30)
    assert not is_open(ny(2026, 11, 1, 1, 10, fold=1), h)


def test_lord_howe_half_hour_spring_forward_opens_when_the_clock_jumps() -> None:
    # 2026-10-04 02:00 +10:30 -> 02:30 +11:00, i.e. 2026-10-03 15:30 UTC.
    h = hours("02:15", "06:00", "Australia/Lord_Howe")
    assert next_opening(utc(2026, 10, 3, 12, 0), h) == utc(2026, 10, 3, 15, 30)


# --- validation


@pytest.mark.parametrize(("text", "expected"), [("00:00", dt.time(0)), ("23:59", dt.time(23, 59))])
def test_parse_hhmm_accepts_24_hour_times(text: str, expected: dt.time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "9:00",
        "09:0",
        "24:00",
        "12:60",
        "0900",
        "09:00:00",
        " 9:00",
        "ab:cd",
        "-1:00",
        "\u0660\u0669:\u0660\u0660",
    ],
)
def test_parse_hhmm_rejects_anything_but_two_digit_hh_mm(text: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|out of range"):
        parse_hhmm(text)


@pytest.mark.parametrize("name", ["UTC", "America/St_Johns", "Asia/Kathmandu"])
def test_validate_timezone_accepts_iana_names(name: str) -> None:
    assert validate_timezone(name) == name


@pytest.mark.parametrize("name", ["", "Mars/Base", "../etc", "/etc/localtime", "zone.tab", None])
def test_validate_timezone_rejects_unknown_names_and_paths(name: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        validate_timezone(name)


def test_from_settings_parses_the_api_shape_with_numbers_or_day_names() -> None:
    base = {"enabled": True, "start": "09:00", "end": "17:30", "timezone": "Europe/London"}
    h = WorkingHours.from_settings({**base, "days": [1, "wed", "sun"]})
    assert h == WorkingHours(
        True, dt.time(9), dt.time(17, 30), "Europe/London", frozenset({MON, WED, SUN})
    )
    assert WorkingHours.from_settings(base).days is None


GOOD = {"enabled": True, "start": "09:00", "end": "17:00", "timezone": "UTC"}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"start": "9:00"}, "HH:MM"),
        ({"end": "24:00"}, "out of range"),
        ({"timezone": "Nowhere/City"}, "unknown timezone"),
        ({"timezone": "../etc"}, "unknown timezone"),
        ({"days": []}, "must not be empty"),
        ({"days": [0]}, "day must be"),
        ({"days": [8]}, "day must be"),
        ({"days": ["monday"]}, "day must be"),
        ({"days": [True]}, "day must be"),
        ({"days": "mon"}, "days must be"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_from_settings_rejects_bad_input_with_a_clear_message(
    override: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingHours.from_settings({**GOOD, **override})


def test_from_settings_names_missing_keys() -> None:
    with pytest.raises(ValueError, match="missing: end, timezone"):
        WorkingHours.from_settings({"enabled": True, "start": "09:00"})


def test_empty_days_set_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        WorkingHours(True, dt.time(9), dt.time(17), "UTC", frozenset())


# --- properties

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/St_Johns",
    "Europe/Dublin",
    "Africa/Casablanca",
    "America/Santiago",
    "Australia/Adelaide",
    "America/Los_Angeles",
    "Asia/Tokyo",
]
# Hypothesis takes naive bounds and attaches the zone itself.
LO, HI = dt.datetime(2020, 1, 1), dt.datetime(2035, 12, 31)  # noqa: DTZ001


@cache
def transitions(zone: str) -> tuple[dt.datetime, ...]:
    """UTC instants in 2020-2035 where the zone's offset changes (to the second)."""
    tz, found = ZoneInfo(zone), []
    t, step = LO.replace(tzinfo=UTC), dt.timedelta(hours=6)
    while t < HI.replace(tzinfo=UTC):
        if t.astimezone(tz).utcoffset() != (t + step).astimezone(tz).utcoffset():
            lo, hi = t, t + step
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                same = mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset()
                lo, hi = (mid, hi) if same else (lo, mid)
            found.append(hi.replace(microsecond=0))
        t += step
    return tuple(found)


minute_times = st.builds(dt.time, st.integers(0, 23), st.integers(0, 59))


@st.composite
def cases(draw: st.DrawFn) -> tuple[WorkingHours, dt.datetime]:
    zone = draw(st.sampled_from(ZONES))
    tz, near = ZoneInfo(zone), transitions(zone)
    if near and draw(st.booleans()):
        # Uniform draws almost never meet a DST change, so aim half the cases at one: the
        # instant within a couple of days of it, the window edges within minutes of it.
        change = draw(st.sampled_from(near))
        instant = change + dt.timedelta(microseconds=draw(st.integers(-2 * 10**11, 10**11)))
        local = (change - dt.timedelta(seconds=1)).astimezone(tz)
        anchor = dt.datetime.combine(local.date(), local.time().replace(second=0))
        edges = st.integers(-90, 90).map(lambda m: (anchor + m * MINUTE).time())
        start = draw(edges | minute_times)
        # Short windows can sit wholly inside a spring-forward gap.
        short = st.integers(1, 60).map(
            lambda m: (dt.datetime.combine(anchor, start) + m * MINUTE).time()
        )
        end = draw(edges | minute_times | short)
    else:
        instant = draw(st.datetimes(LO, HI, timezones=st.just(UTC)))
        start, end = draw(minute_times), draw(minute_times)
    days = draw(st.none() | st.frozensets(st.integers(1, 7), min_size=1))
    h = WorkingHours(enabled=True, start=start, end=end, timezone=zone, days=days)
    return h, instant.astimezone(draw(st.sampled_from([UTC, NY, tz])))


@settings(max_examples=150, deadline=None)
@given(cases())
def test_next_opening_is_the_earliest_open_instant_not_before_the_input(
    case: tuple[WorkingHours, dt.datetime],
) -> None:
    h, instant = case
    opening = next_opening(instant, h)
    assert opening.tzinfo is not None
    assert is_open(opening, h)
    assert opening >= instant
    assert opening - instant <= dt.timedelta(days=8)
    # Windows are minute-aligned spans at least a minute long, so a minute grid from the
    # input cannot step over one. Step in UTC: arithmetic on zoned datetimes is wall-clock.
    t = instant.astimezone(UTC)
    while t < opening:
        assert not is_open(t, h), t
        t += MINUTE


@settings(max_examples=100, deadline=None)
@given(cases())
def test_next_closing_is_the_earliest_closed_instant_not_before_the_input(
    case: tuple[WorkingHours, dt.datetime],
) -> None:
    h, instant = case
    closing = next_closing(instant, h)
    if closing is None:
        assert h.start == h.end
        assert h.days in (None, frozenset(range(1, 8)))
        return
    assert not is_open(closing, h)
    assert closing >= instant
    t = instant.astimezone(UTC)
    while t < closing:
        assert is_open(t, h), t
        t += MINUTE


def wall_clock_rule(instant: dt.datetime, h: WorkingHours) -> bool:
    """The literal reading of the rules on local wall time, for an independent cross-check."""
    local = instant.astimezone(ZoneInfo(h.timezone))
    t, day = local.time(), local.date()

    def allowed(d: dt.date) -> bool:
        return h.days is None or d.isoweekday() in h.days

    yesterday = allowed(day - dt.timedelta(days=1))
    if h.start < h.end:
        return allowed(day) and h.start <= t < h.end
    return (allowed(day) and t >= h.start) or (yesterday and t < h.end)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_is_open_matches_the_wall_clock_rule_outside_repeated_hours(
    case: tuple[WorkingHours, dt.datetime],
) -> None:
    h, instant = case
    local = instant.astimezone(ZoneInfo(h.timezone))
    # In a repeated hour the wall clock goes backwards; there the window stays one span.
    assume(local.replace(fold=1 - local.fold).astimezone(UTC) == instant.astimezone(UTC))
    assert is_open(instant, h) == wall_clock_rule(instant, h)
