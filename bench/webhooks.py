"""Benchmark: outbound webhooks (issue 6).

Five local receivers, five endpoints on them (loopback, so WEBHOOKS_ALLOW_PRIVATE_NETWORKS
is on), two `celery worker` processes on the webhooks queue with the Procfile's pool
(threads, 16 each), then N events recorded through `event_record` at --rate events per
second (0: as fast as they can be written). Prints deliveries per second (first event to
last delivery) and the p50/p99 time from an event's commit to its arrival at a receiver.
Targets: at least 200 deliveries per second; p99 under 2 s.

    .venv/bin/python bench/webhooks.py                       # 5,000 events at 50/s
    .venv/bin/python bench/webhooks.py --events 5000 --rate 0
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/messaging_webhooks_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--endpoints", type=int, default=5)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second; 0: max")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="per worker (Procfile)")
    parser.add_argument("--pool", default="threads", help="the worker's pool (as the Procfile)")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DB),
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    python = str(ROOT / ".venv" / "bin" / "python")
    database = env["DATABASE_URL"].rsplit("/", 1)
    subprocess.run(
        ["psql", f"{database[0]}/postgres", "-qc", f"CREATE DATABASE {database[1]}"],
        capture_output=True,
        check=False,  # exists already
    )
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.db import transaction

    from config.celery import app
    from conversations.events import event_record
    from tests.fakes.receiver import Receiver
    from webhooks.services import webhook_endpoint_create
    from workspaces.models import Workspace

    app.control.purge()
    committed: dict[str, float] = {}  # event's message id -> commit time
    arrived: list[tuple[str, float]] = []  # (event's message id, arrival time)
    lock = threading.Lock()

    def on_request(received) -> None:
        message_id = json.loads(received.body)["data"]["message"]["_id"]
        with lock:
            arrived.append((message_id, received.at))

    receivers = [Receiver().start() for _ in range(args.endpoints)]
    for receiver in receivers:
        receiver.on_request = on_request
    workspace = Workspace.objects.create(name="webhooks bench")
    for receiver in receivers:
        webhook_endpoint_create(workspace=workspace, data={"url": receiver.url})

    workers = [
        subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--queues",
                "webhooks",
                "--concurrency",
                str(args.concurrency),
                "--pool",
                args.pool,
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(args.processes)
    ]
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if any(w.poll() is not None for w in workers) or time.monotonic() > deadline:
                raise SystemExit("the Celery worker did not start")

        expected = args.events * args.endpoints
        started = time.time()
        for index in range(args.events):
            if args.rate:
                pause = started + index / args.rate - time.time()
                if pause > 0:
                    time.sleep(pause)
            with transaction.atomic():
                event_record(
                    workspace_id=workspace.pk,
                    type="message.created",
                    data={"message": {"_id": f"bench-{index}", "text": "Hello"}},
                )
            committed[f"bench-{index}"] = time.time()
        print(f"{args.events} events written in {time.time() - started:.1f} s")

        deadline = time.monotonic() + 600
        while len(arrived) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        finished = max(at for _, at in arrived) if arrived else time.time()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        for receiver in receivers:
            receiver.stop()

    latencies = sorted(at - committed[key] for key, at in arrived if key in committed)
    delivered = len(arrived)
    rate = delivered / (finished - started)
    p50 = latencies[len(latencies) // 2] if latencies else float("nan")
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    print(f"deliveries: {delivered}/{expected} (rate of events offered: {args.rate or 'max'}/s)")
    print(f"deliveries per second: {rate:.0f}")
    print(f"event to delivery: p50 {p50:.3f} s, p99 {p99:.3f} s")


if __name__ == "__main__":
    main()
