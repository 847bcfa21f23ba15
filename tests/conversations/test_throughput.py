"""Sender throughput (channels.throttle) and how delivery keeps to it: spacing across
every worker, replies before campaign traffic, the database when Redis is down, and
Twilio's rate errors slowing the sender instead of failing the message."""

import itertools
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import sms, throttle
from channels.models import Sender, SenderThrottle
from conversations import delivery, scheduling
from conversations.models import Contact, Conversation, DeliveryStatus, Event, Message
from conversations.services import message_create
from tests.factories import MessageFlowFactory
from tests.fakes.twilio import twilio_error


@pytest.fixture(autouse=True)
def _exact_rates(settings):
    """The arithmetic below is checked at the senders' exact rates."""
    settings.SENDER_RATE_HEADROOM = 0.0


# --- Defaults by kind ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        ("SMS", "+14155550123", 1.0),  # long code
        ("SMS", "+18005550123", 3.0),  # toll-free
        ("SMS", "+18335550123", 3.0),
        ("SMS", "+18125550123", 1.0),  # 812 is Indiana, not toll-free
        ("SMS", "12345", 100.0),  # short code
        ("SMS", "123456", 100.0),
        ("Email", "care@clinic.example", 7.0),  # EMAIL_MAX_PER_SECOND
    ],
)
def test_a_senders_default_rate_follows_its_kind(channel, address, expected, settings):
    settings.EMAIL_MAX_PER_SECOND = 7.0

    assert throttle.default_max_per_second(channel, address) == expected


# --- The arithmetic (pure) -----------------------------------------------------------

ops = st.lists(
    st.tuples(
        st.sampled_from([throttle.REPLY, throttle.PLAN, throttle.TAKE]),
        st.floats(0, 0.5),  # time passing before the call
        st.integers(1, 6),  # messages planned at once
    ),
    min_size=1,
    max_size=200,
)
LIMITS = {throttle.REPLY: 10.0, throttle.PLAN: 1.5, throttle.TAKE: 0.0}


def _call(state: throttle.State, op: str, now: float, interval: float, count: int) -> list:
    count = count if op == throttle.PLAN else 1
    return throttle.step(state, now=now, op=op, interval=interval, limit=LIMITS[op], count=count)


def _grants(sequence: list, interval: float) -> list[float]:
    """Runs `sequence`; returns the instants slots were granted at (replies' reserved
    slots and bulk takes: what would be sent)."""
    state, now, granted = throttle.State(), 1000.0, []
    for op, gap, count in sequence:
        now += gap
        for slot in _call(state, op, now, interval, count):
            if slot.go and op in (throttle.REPLY, throttle.TAKE):
                granted.append(now + slot.wait)
    return sorted(granted)


@settings(max_examples=300, deadline=None)
@given(sequence=ops, per_second=st.sampled_from([1.0, 3.0, 20.0, 100.0]))
def test_no_two_sends_are_closer_than_the_interval_whatever_the_mix(sequence, per_second):
    interval = 1.0 / per_second
    granted = _grants(sequence, interval)

    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert all(gap >= interval - 1e-9 for gap in gaps)
    # Hence no window of one second holds more than the rate.
    for index, first in enumerate(granted):
        assert sum(1 for t in granted[index:] if t < first + 1.0) <= per_second + 1e-9


@settings(max_examples=200, deadline=None)
@given(bulk=st.integers(1, 100), per_second=st.sampled_from([1.0, 20.0]))
def test_a_reply_waits_at_most_one_interval_behind_any_amount_of_bulk(bulk, per_second):
    interval = 1.0 / per_second
    state, now = throttle.State(), 1000.0
    # Bulk plans as far as its horizon, defers the rest and takes what is free.
    _call(state, throttle.PLAN, now, interval, bulk)
    _call(state, throttle.TAKE, now, interval, 1)

    [reply] = _call(state, throttle.REPLY, now, interval, 1)

    assert reply.go
    assert reply.wait <= interval + 1e-9


def test_bulk_beyond_the_horizon_is_deferred_in_a_queue_spaced_by_the_interval():
    state, now, interval = throttle.State(), 1000.0, 0.5

    planned = _call(state, throttle.PLAN, now, interval, 6)
    later = _call(state, throttle.PLAN, now, interval, 2)

    assert [p.go for p in planned] == [True] * 4 + [False] * 2
    assert [p.wait for p in planned] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert [(p.go, p.wait) for p in later] == [(False, 3.0), (False, 3.5)]


def test_a_penalty_holds_every_slot_until_it_has_passed():
    state = throttle.State()

    throttle.step(state, now=1000.0, op=throttle.PENALIZE, interval=1.0, limit=5.0)

    assert _call(state, throttle.TAKE, 1001.0, 1.0, 1)[0].wait == 4.0
    assert _call(state, throttle.REPLY, 1001.0, 1.0, 1)[0].wait == 4.0


@settings(max_examples=25, deadline=None)
@given(sequence=ops)
def test_the_redis_script_is_the_same_arithmetic(sequence):
    """The Lua script and throttle.step, on the same calls at the same instants."""
    from django.conf import settings as django_settings

    if not django_settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL)")
    pace = throttle.Pace(key=f"test:{time.monotonic_ns()}", per_second=4.0)
    state, now = throttle.State(), 1_700_000_000.0
    for op, gap, count in sequence:
        now += gap
        expected = _call(state, op, now, pace.interval, count)
        got = throttle._redis_step(pace, op, LIMITS[op], len(expected), now=now)
        assert [slot.go for slot in got] == [slot.go for slot in expected]
        assert [slot.wait for slot in got] == pytest.approx([s.wait for s in expected], abs=1e-6)


# --- Across workers ------------------------------------------------------------------


def _hammer(pace: throttle.Pace, threads: int, each: int) -> list[float]:
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(each):
            slot = throttle.reply(pace)
            with lock:
                granted.append(slot.at)  # on the deciding clock
        connection.close()  # this thread's, opened by the database fallback

    started = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return sorted(granted)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_on_redis_never_go_faster_than_the_rate():
    pace = throttle.Pace(key=f"test:{time.monotonic_ns()}", per_second=200.0)

    granted = _hammer(pace, threads=8, each=25)

    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert min(gaps) >= pace.interval - 1e-6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_the_database_keeps_the_pace(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens
    monkeypatch.setattr(throttle, "_redis_down_until", 0.0)
    pace = throttle.Pace(key=f"test:{time.monotonic_ns()}", per_second=100.0)

    granted = _hammer(pace, threads=4, each=10)

    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert min(gaps) >= pace.interval - 1e-6
    assert SenderThrottle.objects.filter(key=pace.key).exists()
    monkeypatch.setattr(throttle, "_redis_down_until", 0.0)


# --- Delivery --------------------------------------------------------------------------


@pytest.fixture
def sender(workspace):
    return Sender.objects.create(
        workspace=workspace, channel="SMS", address="+14155550100", max_per_second=2
    )


@pytest.fixture
def flow(workspace, sender):
    return MessageFlowFactory(workspace=workspace, sender=sender, is_active=True)


def _due(flow, *, campaign: bool = False, address: str = "+14155550123"):
    contact = Contact.objects.get_or_create(
        workspace=flow.workspace, channel="SMS", address=address
    )[0]
    conversation = Conversation.objects.create(
        workspace=flow.workspace, flow=flow, contact=contact, channel="SMS"
    )
    message = message_create(
        conversation=conversation,
        role="agent",
        text="Hello",
        status=DeliveryStatus.DRAFT,
        metadata={"campaign_id": "c-1"} if campaign else None,
    )
    return scheduling.message_schedule(message=message, send_at=timezone.now())


def test_conversational_sends_wait_for_their_slot_and_keep_the_senders_rate(flow, fake_twilio):
    first, second = _due(flow), _due(flow)

    started = time.monotonic()
    assert delivery.deliver(first.pk) == "sent"
    assert delivery.deliver(second.pk) == "sent"

    assert time.monotonic() - started >= 0.5 - 0.01  # 2 per second


def test_a_campaign_message_beyond_the_horizon_goes_back_for_later_not_failed(
    flow, fake_twilio, monkeypatch
):
    pace = delivery.sender_pace(flow)
    throttle.plan(pace, count=int(throttle.HORIZON * 2) + 1)  # the horizon is full
    message = _due(flow, campaign=True)

    assert delivery.deliver(message.pk) == "deferred"

    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED
    assert message.send_at > timezone.now()
    assert message.send_attempts == 0  # pacing is not an attempt
    assert message.enqueued_at is None  # the sweep hands it out when due
    assert fake_twilio.messages == []
    assert not Event.objects.filter(type="message.failed").exists()


def test_deferred_campaign_messages_are_the_sweeps_again_spaced_by_their_places(
    flow, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(
        delivery.jobs, "enqueue", lambda name, args, at=None: enqueued.append((name, args, at))
    )
    pace = delivery.sender_pace(flow)  # 2 per second: places half a second apart
    throttle.plan(pace, count=int(throttle.HORIZON * 2) + 1)  # the horizon is full
    messages = [_due(flow, campaign=True, address=f"+1415555012{n}") for n in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        outcomes = delivery.deliver_batch([str(m.pk) for m in messages])

    assert set(outcomes.values()) == {"deferred"}
    assert enqueued == []  # no task waiting in a worker ahead of the replies
    back = sorted(Message.objects.filter(pk__in=[m.pk for m in messages]), key=lambda m: m.send_at)
    assert {m.status for m in back} == {DeliveryStatus.SCHEDULED}
    assert {m.enqueued_at for m in back} == {None}
    assert {m.send_attempts for m in back} == {0}
    gaps = [(b.send_at - a.send_at).total_seconds() for a, b in itertools.pairwise(back)]
    assert gaps == [0.5, 0.5]


def test_a_reply_goes_first_while_campaign_traffic_fills_the_plan(flow, fake_twilio):
    pace = delivery.sender_pace(flow)
    throttle.plan(pace, count=int(throttle.HORIZON * 2))  # bulk waiting for their slots
    reply = _due(flow)

    started = time.monotonic()
    assert delivery.deliver(reply.pk) == "sent"

    assert time.monotonic() - started < pace.interval + 0.2


def test_a_share_of_the_rate_is_kept_for_jitter_when_asked(flow, settings):
    settings.SENDER_RATE_HEADROOM = 0.1

    pace = delivery.sender_pace(flow)

    assert pace.per_second == 2
    assert pace.interval == pytest.approx(1 / 1.8)


def test_the_senders_own_rate_is_the_one_kept(flow, sender):
    sender.max_per_second = 40
    sender.save()

    assert delivery.sender_pace(flow).per_second == 40
    flow.sender = None
    assert delivery.sender_pace(flow).key == "SMS:"  # the shared default, long code: 1/s


def test_a_twilio_rate_error_slows_the_sender_and_never_fails_the_message(
    flow, fake_twilio, settings
):
    settings.DELIVERY_MAX_ATTEMPTS = 1
    fake_twilio.enqueue(status=429, body=twilio_error(429, 20429, "Too Many Requests"))
    message = _due(flow)

    assert delivery.deliver(message.pk) == "retrying"

    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED
    assert message.send_attempts == 0
    assert message.error_code == "20429"
    penalty = delivery.rate_penalty(delivery.sender_pace(flow), None)
    assert message.send_at >= timezone.now() + timedelta(seconds=penalty - 1)
    # Every worker now waits for the penalty on this sender.
    assert throttle.reply(delivery.sender_pace(flow), max_wait=0.0).wait >= penalty - 0.5


def test_a_queue_overflow_callback_sends_the_message_again_after_a_pause(
    flow, fake_twilio, client, settings
):
    message = _due(flow)
    delivery.deliver(message.pk)
    message.refresh_from_db()
    sid = message.provider_message_id
    path = f"/v1/webhooks/twilio/status?message={message.pk}"
    params = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30001"}
    signature = fake_twilio.sign(f"{settings.PUBLIC_BASE_URL}{path}", params)

    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204

    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED
    assert message.error_code == "30001"
    assert message.provider_message_id == ""
    assert not Event.objects.filter(type="message.failed").exists()
    # A repeated callback about the dropped send finds nothing.
    assert client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature).status_code == 204
    message.refresh_from_db()
    assert message.status == DeliveryStatus.SCHEDULED


# --- The senders API -------------------------------------------------------------------


@pytest.fixture
def console_sms(settings):
    settings.SMS_BACKEND = "console"
    sms._twilio_client.cache_clear()


def test_max_per_second_is_answered_by_kind_and_editable(api_client, console_sms, settings):
    settings.EMAIL_MAX_PER_SECOND = 12
    long_code = api_client.post(
        "/v1/api/senders", {"channel": "SMS", "address": "+14155550177"}, format="json"
    ).json()
    toll_free = api_client.post(
        "/v1/api/senders", {"channel": "SMS", "address": "+18885550177"}, format="json"
    ).json()
    email = api_client.post(
        "/v1/api/senders", {"channel": "Email", "address": "care@clinic.example"}, format="json"
    ).json()

    assert (long_code["maxPerSecond"], toll_free["maxPerSecond"], email["maxPerSecond"]) == (
        1.0,
        3.0,
        12.0,
    )
    url = f"/v1/api/senders/{long_code['_id']}"
    assert api_client.patch(url, {"maxPerSecond": 20}, format="json").json()["maxPerSecond"] == 20
    assert Sender.objects.get(pk=long_code["_id"]).max_per_second == 20
    reset = api_client.patch(url, {"maxPerSecond": None}, format="json").json()
    assert reset["maxPerSecond"] == 1.0


@pytest.mark.parametrize("value", [0, -1, 5000, "20", True])
def test_an_impossible_max_per_second_is_400(api_client, console_sms, value):
    response = api_client.post(
        "/v1/api/senders",
        {"channel": "SMS", "address": "+14155550177", "maxPerSecond": value},
        format="json",
    )

    assert response.status_code == 400
    assert "maxPerSecond" in response.json()["errors"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_message_waiting_for_its_slot_is_not_taken_for_left_by_a_dead_worker(
    owner, fake_twilio, settings
):
    settings.DELIVERY_SENDING_TIMEOUT = 1
    sender = Sender.objects.create(
        workspace=owner.workspace, channel="SMS", address="+14155550100", max_per_second=1
    )
    flow = MessageFlowFactory(workspace=owner.workspace, sender=sender, is_active=True)
    pace = delivery.sender_pace(flow)
    throttle.reply(pace)
    throttle.reply(pace)  # the next free slot is two seconds away
    message = _due(flow)
    outcome = []

    def worker() -> None:
        outcome.append(delivery.deliver(message.pk))
        connection.close()

    sending = threading.Thread(target=worker)
    sending.start()
    time.sleep(1.5)  # claimed, waiting, past DELIVERY_SENDING_TIMEOUT since the claim
    recovered = delivery.recover_stale_sending()
    sending.join()

    assert recovered == 0
    assert outcome == ["sent"]
    assert len(fake_twilio.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_left_past_the_sending_timeout_is_left_to_the_recovery_and_sent_once(
    owner, fake_twilio, settings, monkeypatch
):
    settings.DELIVERY_SENDING_TIMEOUT = 1
    sender = Sender.objects.create(
        workspace=owner.workspace, channel="SMS", address="+14155550100", max_per_second=100
    )
    flow = MessageFlowFactory(workspace=owner.workspace, sender=sender, is_active=True)
    message = _due(flow)
    waited = delivery._wait_for_slot

    def stalled(*args: object) -> bool:  # as a batch's message waiting for a free thread
        time.sleep(1.3)
        return waited(*args)

    monkeypatch.setattr(delivery, "_wait_for_slot", stalled)
    assert delivery.deliver(message.pk) == "skipped"  # stale by now: not sent here
    assert fake_twilio.messages == []
    monkeypatch.setattr(delivery, "_wait_for_slot", waited)

    assert delivery.recover_stale_sending() == 1  # Twilio has nothing: sent again, once
    Message.objects.filter(pk=message.pk).update(send_at=timezone.now())
    delivery.deliver(message.pk)

    assert len(fake_twilio.messages) == 1
    assert Message.objects.get(pk=message.pk).status != DeliveryStatus.SENDING
