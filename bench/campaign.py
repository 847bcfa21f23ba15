"""Benchmark: campaigns through each sender's throughput, with conversational replies
going out on the same senders meanwhile. PostgreSQL and Redis, the Procfile's worker
(two processes) and beat, and a fake Twilio that answers at once.

10,000 recipients over 3 senders (one campaign per sender's flow), maxPerSecond 20
each. Printed:
- the highest number of messages any sender got into Twilio within one second (any
  one-second window, sliding, at the fake's receipt): at most its maxPerSecond;
- total throughput of the campaigns (close to the sum of the limits, 60/s);
- lateness of the conversational replies sent during the campaigns (Twilio's receipt
  minus the reply's send_at): p50, p99 (target ≤ 2 s), max;
- duplicates (a message received twice) and losses (never received).

    .venv/bin/python bench/campaign.py [--recipients 10000] [--senders 3] [--rate 20]
"""

import argparse
import bisect
import itertools
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from common import fresh_stores

ROOT = Path(__file__).resolve().parent.parent
DB = "postgres://postgres@127.0.0.1:5432/messaging_bench_campaign"
REDIS = "redis://127.0.0.1:6379/9"
TAG = re.compile(r"#([CRW])(\d+)$")


def procfile(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"no {name} in the Procfile")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def busiest_second(times: list[float]) -> int:
    """The most receipts within any window [t, t + 1 s), sliding over every receipt."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="maxPerSecond of each sender")
    parser.add_argument("--replies-per-second", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes to start")
    parser.add_argument("--logs", default="", help="a folder for the processes' output")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from tests.fakes.twilio import FakeTwilio

    received: dict[tuple[str, int], list[float]] = defaultdict(list)
    by_sender: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()
    fake = FakeTwilio()
    original = fake._create

    def recording(form: dict, scripted: object) -> object:
        now = time.time()
        match = TAG.search(form.get("Body", ""))
        with lock:
            by_sender[form.get("From", "")].append(now)
            if match:
                received[(match.group(1), int(match.group(2)))].append(now)
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
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    os.environ.update(env)
    fresh_stores(env)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from campaigns.models import Campaign
    from campaigns.rows import rows_from_json
    from campaigns.services import campaign_create
    from channels.models import Sender
    from conversations.models import Contact, Conversation, DeliveryStatus, Message
    from conversations.scheduling import message_schedule
    from tests.factories import MessageFlowFactory
    from workspaces.models import Workspace

    workspace = Workspace.objects.create(name="bench")
    flows, numbers = [], []
    for index in range(args.senders):
        number = f"+1415555{index + 100:04d}"
        sender = Sender.objects.create(
            workspace=workspace, channel="SMS", address=number, max_per_second=args.rate
        )
        flows.append(
            MessageFlowFactory(
                workspace=workspace,
                sender=sender,
                is_active=True,
                direction="bidirectional",
                message_channel="SMS",
                initiation_message="Hi {{customer.name}}, see you soon #C{{dynamic.n}}",
            )
        )
        numbers.append(number)
    # Conversations the replies go to: customers who just wrote, on the same senders.
    reply_conversations = []
    for index in range(60):
        flow = flows[index % len(flows)]
        contact = Contact.objects.create(
            workspace=workspace, channel="SMS", address=f"+1312555{index:04d}"
        )
        reply_conversations.append(
            Conversation.objects.create(
                workspace=workspace, flow=flow, contact=contact, channel="SMS"
            )
        )
    connection.close()

    def output(name: str, index: int) -> object:
        if not args.logs:
            return subprocess.DEVNULL
        Path(args.logs).mkdir(parents=True, exist_ok=True)
        return (Path(args.logs) / f"{name}-{index}.log").open("w")

    processes = [
        subprocess.Popen(
            ["bash", "-c", f"exec {procfile(name)}"],
            cwd=ROOT,
            env=env,
            stdout=output(name, index),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for index, name in enumerate(("worker",) * args.workers + ("beat",))
    ]
    try:
        # The workers are up when each has taken a task: a message to send, through the
        # path a reply takes, one per worker process.
        for probe in range(args.workers * 4):
            with transaction.atomic():
                message = Message.objects.create(
                    workspace=workspace,
                    conversation=reply_conversations[probe],
                    role="agent",
                    text=f"Warming up #W{probe}",
                    status=DeliveryStatus.DRAFT,
                )
                message_schedule(message=message, send_at=datetime.now(UTC))
        deadline = time.time() + 120
        while time.time() < deadline:
            with lock:
                warm = sum(1 for kind, _ in received if kind == "W")
            if warm == args.workers * 4:
                break
            time.sleep(0.2)
        time.sleep(2)  # beat's first sweeps
        connection.close()
        print(f"{args.workers} x worker: {procfile('worker')}")

        # The campaigns, as the API stores them (its request does nothing more).
        workers_cpu = sum(cpu_seconds(p.pid) for p in processes[: args.workers])
        started = time.time()
        total = args.recipients
        for index, flow in enumerate(flows):
            rows = [
                {
                    "to": f"+1202{n:07d}",
                    "metadata": {"customerDetails": {"name": f"Customer {n}"}},
                    "dynamic": {"n": n},
                }
                for n in range(index, total, len(flows))
            ]
            campaign_create(
                workspace=workspace,
                name=f"Bench {index}",
                flow_id=flow.pk,
                rows=rows_from_json(rows),
                send_at=None,
                autopilot=True,
            )
        connection.close()
        print(
            f"{total} recipients in {len(flows)} campaigns stored in {time.time() - started:.1f} s"
        )

        # Replies while the campaigns go out, through the path a generated reply takes.
        due: dict[int, float] = {}
        stop = threading.Event()

        stored: list[float] = []

        def replies() -> None:
            count = 0
            while not stop.is_set():
                conversation = random.choice(reply_conversations)
                began = time.time()
                with transaction.atomic():
                    message = Message.objects.create(
                        workspace=workspace,
                        conversation=conversation,
                        role="agent",
                        text=f"An answer #R{count}",
                        status=DeliveryStatus.DRAFT,
                    )
                    message = message_schedule(message=message, send_at=datetime.now(UTC))
                due[count] = message.send_at.timestamp()
                stored.append(time.time() - began)
                count += 1
                stop.wait(1 / args.replies_per_second)
            connection.close()

        replying = threading.Thread(target=replies)
        replying.start()

        deadline = time.time() + 30 + 3 * total / (args.rate * len(flows))
        while time.time() < deadline:
            with lock:
                done = sum(1 for kind, _ in received if kind == "C")
            if done >= total:
                break
            time.sleep(0.5)
        stop.set()
        replying.join()
        time.sleep(5)  # the last replies

        with lock:
            campaign_times = [min(t) for (kind, _), t in received.items() if kind == "C"]
            duplicates = sum(len(t) - 1 for t in received.values())
            got = {key for key in received}
        first, last = min(campaign_times), max(campaign_times)
        lost_campaign = total - len(campaign_times)
        lost_replies = sum(1 for n in due if ("R", n) not in got)
        lateness = [min(received[("R", n)]) - due[n] for n in due if ("R", n) in got]
        if os.environ.get("BENCH_DEBUG"):
            worst = sorted(
                (
                    (min(received[("R", n)]) - due[n], due[n] - first)
                    for n in due
                    if ("R", n) in got
                ),
                reverse=True,
            )[:8]
            print("worst replies (lateness, due after the first campaign send):", worst)
            print("storing a reply took at most", round(max(stored), 2), "s")
            for number in numbers:
                times = sorted(by_sender[number])
                per_10s = [0] * (int((times[-1] - first) // 10) + 1)
                for t in times:
                    if t >= first:
                        per_10s[int((t - first) // 10)] += 1
                idle = sum(
                    b - a - 1 / args.rate for a, b in itertools.pairwise(times) if b - a > 0.2
                )
                print(f"  {number}: per 10 s {per_10s}; idle in gaps over 0.2 s: {idle:.1f} s")
        print(
            f"campaigns: {len(campaign_times)} sent in {last - first:.1f} s = "
            f"{len(campaign_times) / (last - first):.1f}/s "
            f"(limits sum to {args.rate * len(flows):.0f}/s)"
        )
        for number in numbers:
            print(
                f"  sender {number}: {len(by_sender[number])} messages, busiest one-second "
                f"window {busiest_second(by_sender[number])} (maxPerSecond {args.rate:g})"
            )
        print(
            f"replies during the campaigns: {len(lateness)}, lateness "
            f"p50={statistics.median(lateness):.2f} s p99={percentile(lateness, 0.99):.2f} s "
            f"max={max(lateness):.2f} s"
        )
        print(f"duplicates={duplicates}  losses={lost_campaign} campaign + {lost_replies} replies")
        used = sum(cpu_seconds(p.pid) for p in processes[: args.workers]) - workers_cpu
        print(
            f"worker CPU: {used:.0f} s for {total} campaign messages and {len(due)} replies "
            f"({1000 * used / (total + len(due)):.1f} ms a message, making it included)"
        )
        statuses = dict(Campaign.objects.values_list("name", "status").order_by("name"))
        print(f"campaign statuses: {statuses}")
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
        fake.stop()


if __name__ == "__main__":
    main()
