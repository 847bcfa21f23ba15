"""Sender throughput: each sender's messages per second, held across every worker
process at once, with conversational replies ahead of bulk (campaign) traffic.

The arithmetic is GCRA with no burst: a sender has one theoretical arrival time (`tat`),
the next instant a message may leave; every send moves it on by the interval
(1 / max per second), so two sends are never closer than the interval and no one-second
window holds more than the rate. Two kinds of traffic share it:

- **replies** (everything not marked bulk) reserve the next free slot at once, however
  much bulk traffic waits: a customer who just wrote waits at most one interval behind
  a bulk send that already left, plus other replies;
- **bulk** sends never reserve ahead of time. A bulk message first gets a place in the
  sender's plan (`plan`, at most HORIZON seconds ahead), sleeps until then, and takes
  the slot only if it is free at that instant (`take`); a reply that came first moves
  it on by an interval. Beyond the horizon a bulk message is deferred to a place in the
  queue of deferred ones (`queue`), spaced by the interval, so a backlog of ten thousand
  comes back at the rate it can leave instead of all at once.

The state lives in Redis (one hash per sender, changed by one Lua script, on the Redis
server's clock). When Redis does not answer, the same step runs on a database row
under a lock (SenderThrottle), and Redis is not asked again for a few seconds.

A rate error from the provider (Twilio 20429, 429, 30001 queue overflow) `penalize`s
the sender: no slot before the penalty has passed, for every worker.
"""

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.db import transaction

from channels.models import Channel, Sender, SenderThrottle

logger = logging.getLogger(__name__)

LONG_CODE_PER_SECOND = 1.0
TOLL_FREE_PER_SECOND = 3.0
SHORT_CODE_PER_SECOND = 100.0
# North American toll-free area codes.
TOLL_FREE_CODES = frozenset({"800", "888", "877", "866", "855", "844", "833"})

# How far ahead bulk sends are planned (and so about how long one may sleep in a
# worker's thread before its slot): a little more than the send sweep's period (2 s),
# which hands out what comes due meanwhile in one go.
HORIZON = 2.5
# A reply whose slot is further off than this is rescheduled instead of waited for.
REPLY_MAX_WAIT = 10.0
# Seconds Redis is left alone after it failed to answer.
REDIS_RETRY_AFTER = 5.0

REPLY, PLAN, TAKE, PENALIZE, FORGET = "reply", "plan", "take", "penalize", "forget"


def default_max_per_second(channel: str, address: str) -> float:
    """By kind: short code (5-6 digits) 100/s, North American toll-free 3/s, other
    numbers (long codes) 1/s; email EMAIL_MAX_PER_SECOND."""
    if channel == Channel.EMAIL:
        return float(settings.EMAIL_MAX_PER_SECOND)
    digits = address.lstrip("+")
    if address.isdigit() and 5 <= len(address) <= 6:
        return SHORT_CODE_PER_SECOND
    if address.startswith("+1") and digits[1:4] in TOLL_FREE_CODES:
        return TOLL_FREE_PER_SECOND
    return LONG_CODE_PER_SECOND


def sender_max_per_second(sender: Sender) -> float:
    """The sender's own setting, else its kind's default."""
    if sender.max_per_second:
        return float(sender.max_per_second)
    return default_max_per_second(sender.channel, sender.address)


@dataclass(frozen=True)
class Pace:
    """Where a sender's messages go: the key of its state, its rate, and the share of
    that rate kept unused (SENDER_RATE_HEADROOM) for the jitter between a worker taking
    a slot and the provider receiving the request."""

    key: str
    per_second: float
    headroom: float = 0.0

    @property
    def interval(self) -> float:
        return 1.0 / (self.per_second * (1.0 - self.headroom))


def pace_for(*, sender: Sender | None, channel: str, address: str, service_sid: str = "") -> Pace:
    """The pace of what is sent from (`address`, `service_sid`): the sender's setting when
    there is a Sender row, else the kind's default (the deployment's shared number)."""
    per_second = (
        sender_max_per_second(sender) if sender else default_max_per_second(channel, address)
    )
    return Pace(
        key=f"{channel}:{service_sid or address}",
        per_second=per_second,
        headroom=settings.SENDER_RATE_HEADROOM,
    )


@dataclass(frozen=True)
class Slot:
    """go: the slot is the caller's, after `wait` seconds. Otherwise nothing was taken
    and `wait` says when to come back. `at`: that instant on the deciding clock (Redis's
    or the database fallback's), Unix time."""

    go: bool
    wait: float
    at: float = 0.0


@dataclass
class State:
    tat: float = 0.0
    plan: float = 0.0
    queue: float = 0.0


def step(
    state: State, *, now: float, op: str, interval: float, limit: float = 0.0, count: int = 1
) -> list[Slot]:
    """One decision, pure: changes `state` and answers (a Slot per message for PLAN, one
    otherwise). The Lua script below is this function line by line; tests run both on
    the same sequences."""
    if op == REPLY:  # limit: the longest wait worth reserving
        slot = max(state.tat, now)
        if slot - now > limit:
            return [Slot(False, slot - now)]
        state.tat = slot + interval
        state.plan = max(state.plan, now) + interval  # bulk plans make room
        return [Slot(True, slot - now)]
    if op == PLAN:  # limit: the horizon; `count` messages of one sender at once
        slots = []
        for _ in range(count):
            slot = max(state.plan, state.tat, now)
            if slot - now > limit:
                break
            state.plan = slot + interval
            slots.append(Slot(True, slot - now))
        deferred = count - len(slots)
        if deferred:  # the rest: places in the queue of deferred ones
            place = max(state.queue, state.plan, state.tat, now)
            slots += [Slot(False, place + index * interval - now) for index in range(deferred)]
            state.queue = place + deferred * interval
        return slots
    if op == TAKE:
        if state.tat <= now:
            state.tat = now + interval
            return [Slot(True, 0.0)]
        return [Slot(False, state.tat - now)]
    if op == PENALIZE:  # limit: the penalty in seconds
        state.tat = max(state.tat, now + limit)
        state.plan = max(state.plan, state.tat)
        return [Slot(True, 0.0)]
    if op == FORGET:  # the deferred bulk messages were taken away (pause, cancel)
        state.queue = 0.0
        return [Slot(True, 0.0)]
    raise ValueError(f"unknown throttle operation {op!r}")


SCRIPT = """
local key = KEYS[1]
local op = ARGV[1]
local interval = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if not now then
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
end
local s = redis.call('HMGET', key, 'tat', 'plan', 'queue')
local tat = tonumber(s[1]) or 0
local plan = tonumber(s[2]) or 0
local queue = tonumber(s[3]) or 0
local function exact(x) return string.format('%.17g', x) end
local out = {exact(now)}
local function answer(go, wait)
  out[#out + 1] = go
  out[#out + 1] = exact(wait)
end
if op == 'reply' then
  local slot = math.max(tat, now)
  if slot - now > limit then
    answer(0, slot - now)
  else
    tat = slot + interval
    plan = math.max(plan, now) + interval
    answer(1, slot - now)
  end
elseif op == 'plan' then
  local planned = 0
  for _ = 1, count do
    local slot = math.max(plan, tat, now)
    if slot - now > limit then break end
    plan = slot + interval
    planned = planned + 1
    answer(1, slot - now)
  end
  if planned < count then
    local place = math.max(queue, plan, tat, now)
    for index = 0, count - planned - 1 do
      answer(0, place + index * interval - now)
    end
    queue = place + (count - planned) * interval
  end
elseif op == 'take' then
  if tat <= now then
    tat = now + interval
    answer(1, 0)
  else
    answer(0, tat - now)
  end
elseif op == 'penalize' then
  tat = math.max(tat, now + limit)
  plan = math.max(plan, tat)
  answer(1, 0)
elseif op == 'forget' then
  queue = 0
  answer(1, 0)
else
  return redis.error_reply('unknown throttle operation')
end
redis.call('HSET', key, 'tat', exact(tat), 'plan', exact(plan), 'queue', exact(queue))
local last = math.max(tat, plan, queue)
redis.call('PEXPIRE', key, math.ceil((math.max(last - now, 0) + 60) * 1000))
return out
"""

_redis_down_until = 0.0
_redis_lock = threading.Lock()


@lru_cache(maxsize=4)
def _script(url: str) -> object:
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return client.register_script(SCRIPT)


def _redis_step(
    pace: Pace, op: str, limit: float, count: int, now: float | None = None
) -> list[Slot] | None:
    """The step in Redis, on its clock (`now` only for tests); None when Redis is not
    configured or does not answer."""
    global _redis_down_until
    url = settings.REDIS_URL
    if not url or time.monotonic() < _redis_down_until:
        return None
    try:
        args = [op, repr(pace.interval), repr(limit), count]
        answer = _script(url)(
            keys=[f"throttle:{pace.key}"], args=[*args, *([repr(now)] if now is not None else [])]
        )
    except redis.RedisError as exc:
        with _redis_lock:
            _redis_down_until = time.monotonic() + REDIS_RETRY_AFTER
        logger.warning("Sender throttle: Redis failed (%s); pacing on the database", exc)
        return None
    clock = float(answer[0])
    pairs = zip(answer[1::2], answer[2::2], strict=True)
    return [Slot(bool(int(go)), float(wait), clock + float(wait)) for go, wait in pairs]


def _database_step(pace: Pace, op: str, limit: float, count: int) -> list[Slot]:
    with transaction.atomic():
        row, _ = SenderThrottle.objects.select_for_update().get_or_create(key=pace.key)
        state = State(tat=row.tat, plan=row.plan, queue=row.queue)
        now = time.time()
        slots = step(state, now=now, op=op, interval=pace.interval, limit=limit, count=count)
        row.tat, row.plan, row.queue = state.tat, state.plan, state.queue
        row.save(update_fields=["tat", "plan", "queue", "updated_at"])
    return [Slot(slot.go, slot.wait, now + slot.wait) for slot in slots]


def _step(pace: Pace, op: str, limit: float = 0.0, count: int = 1) -> list[Slot]:
    slots = _redis_step(pace, op, limit, count)
    return slots if slots is not None else _database_step(pace, op, limit, count)


def reply(pace: Pace, *, max_wait: float = REPLY_MAX_WAIT) -> Slot:
    """A conversational message: the next free slot, reserved (go, sleep `wait`), unless
    it is further off than `max_wait` (then nothing is reserved)."""
    return _step(pace, REPLY, max_wait)[0]


def plan(pace: Pace, *, count: int = 1, horizon: float = HORIZON) -> list[Slot]:
    """`count` bulk messages of the sender at once: each a planned instant within
    `horizon` (go: sleep `wait`, then `take`), or beyond it a place among the deferred
    ones, `wait` seconds from now (places one interval apart)."""
    return _step(pace, PLAN, horizon, count)


def take(pace: Pace) -> Slot:
    """A bulk message at its planned instant: the slot if it is free now."""
    return _step(pace, TAKE)[0]


def penalize(pace: Pace, *, seconds: float) -> None:
    """The provider said the sender goes too fast: no slot for `seconds`."""
    _step(pace, PENALIZE, seconds)


def forget_queue(pace: Pace) -> None:
    """The deferred bulk messages of this sender were held or canceled."""
    _step(pace, FORGET)
