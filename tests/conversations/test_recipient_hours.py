"""Working hours in the recipient's own time (flows.local_time): which zone counts, and
properties over zones, DST days and numbers that span zones."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from phonenumbers.tzdata import TIMEZONE_DATA

from conversations import delivery
from conversations.models import Contact, Conversation, DeliveryStatus
from conversations.outbound import message_generate
from conversations.services import message_create
from flows.local_time import MAX_SPREAD, RecipientHours, recipient_zones, zones_for_number
from flows.working_hours import WorkingHours, is_open, next_closing, next_opening
from tests.factories import MessageFlowFactory

UTC = dt.UTC
T = dt.time


def hours(start: T, end: T, tz: str = "America/New_York", days=None) -> WorkingHours:
    return WorkingHours(True, start, end, tz, days)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# --- Which zone --------------------------------------------------------------------


def test_a_declared_zone_wins_then_the_numbers_then_the_flows():
    chicago = "+13125550123"
    assert recipient_zones(
        declared="Europe/Paris", channel="SMS", address=chicago, fallback="UTC"
    ) == ("Europe/Paris",)
    assert recipient_zones(
        declared="Mars/Base", channel="SMS", address=chicago, fallback="UTC"
    ) == ("America/Chicago",)
    assert recipient_zones(declared=None, channel="Email", address="a@b.co", fallback="UTC") == (
        "UTC",
    )


def test_a_number_across_a_state_line_has_both_zones():
    assert zones_for_number("+12085550123") == ("America/Boise", "America/Los_Angeles")


def test_a_toll_free_number_says_nothing_of_where_its_owner_is():
    assert zones_for_number("+18005550123") == ()
    assert recipient_zones(
        declared=None, channel="SMS", address="+18005550123", fallback="Europe/Berlin"
    ) == ("Europe/Berlin",)


def test_across_zones_the_one_that_opens_last_counts():
    # Idaho's 208: Boise (Mountain) and Los Angeles (Pacific). 9:00 Boise is 8:00 in LA.
    local = RecipientHours(hours(T(9), T(17)), ("America/Boise", "America/Los_Angeles"))
    monday = utc(2026, 3, 2, 16, 0)  # 9:00 Boise, 8:00 LA

    assert not local.is_open(monday)
    assert local.next_opening(monday) == utc(2026, 3, 2, 17, 0)  # 9:00 LA
    assert local.is_open(utc(2026, 3, 3, 0, 30))  # 17:30 Boise, 16:30 LA


def test_one_zone_is_exactly_the_flows_own_arithmetic():
    h = hours(T(9), T(17), "Asia/Kathmandu")
    own = RecipientHours.of(h)
    instant = utc(2026, 3, 2, 2, 0)

    assert own.next_opening(instant) == next_opening(instant, h)
    assert own.next_closing(utc(2026, 3, 2, 4, 0)) == next_closing(utc(2026, 3, 2, 4, 0), h)


# --- Properties ----------------------------------------------------------------------

ZONES = sorted(
    {
        "UTC",
        "America/New_York",
        "America/Phoenix",
        "Europe/London",
        "Asia/Kolkata",
        "Australia/Adelaide",
        "Australia/Lord_Howe",
        "America/St_Johns",
        "Pacific/Chatham",
        "Europe/Berlin",
        "America/Sao_Paulo",
        "Asia/Kathmandu",
    }
)
# 2026's DST changes: the US, the EU, Australia (south), Chile, New Zealand, Lord Howe.
DST_DAYS = [
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 29),
    dt.date(2026, 4, 5),
    dt.date(2026, 9, 6),
    dt.date(2026, 9, 27),
    dt.date(2026, 10, 4),
    dt.date(2026, 10, 25),
    dt.date(2026, 11, 1),
]


def _spanning_zone_sets() -> list[tuple[str, ...]]:
    """Every set of zones a real number may span (phonenumbers' data), as this module
    takes them (close enough together to be one place)."""
    found = set()
    for prefix, zones in TIMEZONE_DATA.items():
        if len(zones) > 1:
            number = "+" + (prefix + "5550123456")[:11]
            taken = zones_for_number(number)
            if len(taken) > 1:
                found.add(taken)
    return sorted(found)


SPANNING = _spanning_zone_sets()

times = st.builds(T, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
instants = st.builds(
    lambda day, minutes: (
        dt.datetime.combine(day, T(12), tzinfo=UTC) + dt.timedelta(minutes=minutes)
    ),
    st.sampled_from(DST_DAYS),
    st.integers(-2 * 24 * 60, 2 * 24 * 60),
)


def test_there_are_real_numbers_across_zones_to_test_with():
    assert len(SPANNING) >= 10
    assert ("America/Boise", "America/Los_Angeles") in SPANNING


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), start=times, end=times, instant=instants)
def test_in_one_zone_it_is_the_working_hours_of_that_zone(zone, start, end, instant):
    h = hours(start, end, "UTC")
    local = RecipientHours(h, (zone,))
    in_zone = hours(start, end, zone)

    assert local.is_open(instant) == is_open(instant, in_zone)
    assert local.next_opening(instant) == next_opening(instant, in_zone)
    assert local.next_closing(instant) == next_closing(instant, in_zone)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    zones=st.sampled_from(SPANNING),
    start=st.integers(5 * 4, 12 * 4),
    length=st.integers(1 * 4, 12 * 4),
    instant=instants,
)
def test_across_zones_the_opening_wakes_nobody_and_none_is_missed(zones, start, length, instant):
    opens = T(start // 4, start % 4 * 15)
    closes_minutes = start * 15 + length * 15
    # Daytime windows: closing plus the zones' spread stays before midnight, so the
    # east of a number is never past midnight while its west is open.
    assume(closes_minutes * 60 + MAX_SPREAD.total_seconds() < 24 * 3600)
    closes = T(closes_minutes // 60, closes_minutes % 60)
    local = RecipientHours(hours(opens, closes, "UTC"), zones)

    at = local.next_opening(instant)

    assert at >= instant
    assert local.is_open(at)
    for zone in zones:
        wall = at.astimezone(ZoneInfo(zone))
        assert wall.time() >= opens, (zone, wall)  # nobody is woken
    # No earlier instant was open: every 10 minutes, and the second before.
    probe = instant
    while probe < at - dt.timedelta(seconds=1):
        assert not local.is_open(probe), probe
        probe += dt.timedelta(minutes=10)
    if at > instant:
        assert not local.is_open(at - dt.timedelta(seconds=1))


@settings(max_examples=200, deadline=None)
@given(zones=st.sampled_from(SPANNING), instant=instants)
def test_open_means_open_where_the_clock_is_furthest_behind(zones, instant):
    local = RecipientHours(hours(T(9), T(17), "UTC"), zones)
    behind = min(zones, key=lambda zone: (instant.astimezone(ZoneInfo(zone)).utcoffset(), zone))

    assert local.is_open(instant) == is_open(instant, hours(T(9), T(17), behind))


# --- Through delivery ------------------------------------------------------------------


@pytest.fixture
def local_flow(workspace):
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        working_hours_enabled=True,
        working_hours_start=T(9),
        working_hours_end=T(17),
        working_hours_timezone="America/New_York",
        working_hours_recipient_local=True,
    )


def test_a_message_to_a_chicago_number_waits_for_nine_in_chicago(
    local_flow, workspace, monkeypatch
):
    from django.utils import timezone

    clock = utc(2026, 3, 2, 14, 30)  # 9:30 in New York, 8:30 in Chicago
    monkeypatch.setattr(timezone, "now", lambda: clock)

    _, chicago = message_generate(
        workspace=workspace,
        flow_id=local_flow.pk,
        to="+13125550123",
        customer_details={},
        dynamic={},
        autopilot=True,
    )
    _, paris = message_generate(
        workspace=workspace,
        flow_id=local_flow.pk,
        to="+13125550124",
        customer_details={"timezone": "Europe/Paris"},  # 15:30 in Paris: open
        dynamic={},
        autopilot=True,
    )

    assert chicago.send_at == utc(2026, 3, 2, 15, 0)
    assert paris.send_at == clock


def test_delivery_checks_the_recipients_hours_just_before_sending(
    local_flow, workspace, monkeypatch
):
    from django.utils import timezone

    from conversations import scheduling

    contact = Contact.objects.create(workspace=workspace, channel="SMS", address="+13125550123")
    conversation = Conversation.objects.create(
        workspace=workspace, flow=local_flow, contact=contact, channel="SMS"
    )
    message = message_create(
        conversation=conversation, role="agent", text="Hi", status=DeliveryStatus.DRAFT
    )
    clock = utc(2026, 3, 2, 14, 30)  # open in the flow's New York, not in Chicago
    monkeypatch.setattr(timezone, "now", lambda: clock)
    scheduling.message_schedule(message=message, send_at=clock)

    assert delivery.deliver(message.pk) == "deferred"

    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED
    assert message.send_at == utc(2026, 3, 2, 15, 0)


def test_a_flow_in_its_own_zone_ignores_the_recipients(local_flow):
    local_flow.working_hours_recipient_local = False
    contact = Contact(channel="SMS", address="+13125550123")

    assert delivery.recipient_hours(local_flow, contact).zones == ("America/New_York",)
