"""Benchmark: the send scheduler on PostgreSQL and Redis, with the Procfile's worker
(two processes) and beat, and a fake Twilio that answers at once.

1. 10,000 messages due at the same instant: time to drain them and sends per second.
2. A steady stream of 20 messages a second, due at random instants up to 10 s ahead,
   for --stream-seconds: lateness p50, p99 and max (provider receipt minus send_at).
Both print duplicates (a message received twice) and losses (never received).
Targets on the 2-core machine: ≥300 sends/s, p99 lateness ≤2 s, no duplicates, no losses.

    .venv/bin/python bench/dispatch.py [--backlog 10000] [--stream-seconds 60]
"""

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import fresh_stores

ROOT = Path(__file__).resolve().parent.parent
DB = "postgres://postgres@127.0.0.1:5432/messaging_bench_dispatch"
REDIS = "redis://127.0.0.1:6379/13"
TAG = re.compile(r"#(\d+)$")


def procfile(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"no {name} in the Procfile")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--stream-seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="worker processes to start")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from tests.fakes.twilio import FakeTwilio

    received: dict[int, list[float]] = {}
    lock = threading.Lock()
    fake = FakeTwilio()
    original = fake._create

    def recording(form: dict, scripted: object) -> object:
        match = TAG.search(form.get("Body", ""))
        if match:
            with lock:
                received.setdefault(int(match.group(1)), []).append(time.time())
        return original(form, scripted)

    fake._create = recording
    fake.start()

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DB),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", REDIS),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": fake.url,
        "SMS_BACKEND": "twilio",
        "LOG_LEVEL": "WARNING",
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    os.environ.update(env)
    fresh_stores(env)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from channels.models import MAX_PER_SECOND, Sender
    from conversations.models import Contact, Conversation, DeliveryStatus, Message
    from conversations.scheduling import message_schedule
    from tests.factories import MessageFlowFactory
    from workspaces.models import Workspace

    workspace = Workspace.objects.create(name="bench")
    # The scheduler's own throughput, not a number's carrier limit: the default sender
    # allows the most a sender may (a long code alone is held to 1/s, channels.throttle).
    Sender.objects.create(
        workspace=workspace,
        channel="SMS",
        address=env["TWILIO_FROM_NUMBER"],
        is_default=True,
        max_per_second=MAX_PER_SECOND,
    )
    flow = MessageFlowFactory(workspace=workspace, is_active=True, message_channel="SMS")
    contact = Contact.objects.create(workspace=workspace, channel="SMS", address="+14155550123")
    conversation = Conversation.objects.create(
        workspace=workspace, flow=flow, contact=contact, channel="SMS"
    )
    connection.close()

    processes = [
        subprocess.Popen(
            ["bash", "-c", f"exec {procfile(name)}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for name in ("worker",) * args.workers + ("beat",)
    ]
    try:
        time.sleep(6)  # worker and beat start
        print(f"{args.workers} x worker: {procfile('worker')}")

        # 1. A backlog due at once, as after an outage or a campaign: found by the sweep.
        now = datetime.now(UTC)
        Message.objects.bulk_create(
            Message(
                workspace=workspace,
                conversation=conversation,
                role="agent",
                text=f"Backlog #{i}",
                status=DeliveryStatus.SCHEDULED,
                send_at=now,
            )
            for i in range(args.backlog)
        )
        connection.close()
        started = time.time()
        deadline = started + 600
        while time.time() < deadline:
            with lock:
                done = len(received)
            if done >= args.backlog:
                break
            time.sleep(0.1)
        drained = max(t for times in received.values() for t in times) - started
        duplicates = sum(len(t) - 1 for t in received.values())
        losses = args.backlog - len(received)
        print(
            f"backlog={args.backlog}  drained in {drained:.1f} s  "
            f"{args.backlog / drained:.0f} sends/s  duplicates={duplicates}  losses={losses}"
        )

        # 2. A steady stream through the real scheduling path (task on commit).
        with lock:
            received.clear()
        due: dict[int, float] = {}
        total = args.rate * args.stream_seconds
        next_at = time.time()
        for i in range(total):
            send_at = datetime.now(UTC) + timedelta(seconds=random.uniform(0, 10))
            with transaction.atomic():
                message = Message.objects.create(
                    workspace=workspace,
                    conversation=conversation,
                    role="agent",
                    text=f"Stream #{i}",
                    status=DeliveryStatus.DRAFT,
                )
                message_schedule(message=message, send_at=send_at)
            due[i] = send_at.timestamp()
            next_at += 1 / args.rate
            time.sleep(max(0.0, next_at - time.time()))
        deadline = time.time() + 60
        while time.time() < deadline and len(received) < total:
            time.sleep(0.2)
        lateness = [min(received[i]) - due[i] for i in due if i in received]
        duplicates = sum(len(t) - 1 for t in received.values())
        print(
            f"stream={total} at {args.rate}/s  lateness p50={statistics.median(lateness):.2f} s  "
            f"p99={percentile(lateness, 0.99):.2f} s  max={max(lateness):.2f} s  "
            f"duplicates={duplicates}  losses={total - len(received)}"
        )
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)
        fake.stop()


if __name__ == "__main__":
    main()
