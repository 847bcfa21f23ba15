"""Benchmark: the operator console's pages with a busy workspace.

One workspace with --messages messages (default 100,000) over the last 14 days in
--conversations conversations (customers, AI replies, people's replies, drafts, failures),
plus the rows around them; then the admin index (the dashboard), the inbox, a filtered
inbox and a full-text search are each requested --runs times through Django's test
client as a superuser. Prints each page's median and worst time and its query count.
The data is made once and reused (--fresh makes it again).

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --messages 100000 --conversations 5000 --runs 7
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/messaging_dashboard_bench"
WORKSPACE = "dashboard bench"
BATCH = 5000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="make the data again")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DB),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    os.environ.update(env)
    if env["DATABASE_URL"].startswith("postgres"):
        database = env["DATABASE_URL"].rsplit("/", 1)
        subprocess.run(
            ["psql", f"{database[0]}/postgres", "-qc", f"CREATE DATABASE {database[1]}"],
            capture_output=True,
            check=False,  # exists already
        )
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from workspaces.models import Workspace

    workspace = Workspace.objects.filter(name=WORKSPACE).first()
    if workspace is None or args.fresh:
        Workspace.objects.filter(name=WORKSPACE).delete()
        started = time.monotonic()
        workspace = make_data(args.messages, args.conversations)
        print(f"made the data in {time.monotonic() - started:.1f} s")
    from conversations.models import Message

    count = Message.objects.filter(workspace=workspace).count()
    print(f"workspace {workspace.pk}: {count} messages, database {connection.vendor}")

    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    pages = {
        "dashboard (admin index)": "/admin/",
        "inbox": "/admin/inbox/",
        "inbox, drafts waiting": "/admin/inbox/?attention=draft",
        "inbox, search 'appointment'": "/admin/inbox/?q=appointment",
    }
    for name, url in pages.items():
        client.get(url, secure=True)  # warm: templates, content types, the pool
        times = []
        for _ in range(args.runs):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, secure=True)
                times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"{name:30} median {statistics.median(times) * 1000:7.0f} ms"
            f"  worst {max(times) * 1000:7.0f} ms  {len(queries)} queries"
        )


def make_data(messages: int, conversations: int):
    """Bulk-inserted rows shaped like the service's own (services are too slow for 100k)."""
    from django.utils import timezone

    from agents.models import Agent
    from channels.models import Channel
    from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
    from flows.models import MessageFlow
    from workspaces.models import Workspace

    rng = random.Random(7)
    now = timezone.now()
    workspace = Workspace.objects.create(name=WORKSPACE)
    agent = Agent.objects.create(workspace=workspace, name="bench agent", instructions="Be brief.")
    flow = MessageFlow.objects.create(
        workspace=workspace,
        agent=agent,
        name="bench flow",
        direction="bidirectional",
        prompt="p",
        initiation_message="Hi",
        message_channel=Channel.SMS,
        is_active=True,
    )
    contacts = Contact.objects.bulk_create(
        Contact(
            workspace=workspace,
            channel=Channel.SMS,
            address=f"+1415{i:07d}",
            name=f"Customer {i}",
            opted_out_at=now - timedelta(days=rng.randint(0, 30)) if i % 97 == 0 else None,
        )
        for i in range(conversations)
    )
    rows = Conversation.objects.bulk_create(
        Conversation(workspace=workspace, flow=flow, agent=agent, contact=c, channel=Channel.SMS)
        for c in contacts
    )
    # Times in the past: auto_now_add would stamp every row with now.
    Message._meta.get_field("created_at").auto_now_add = False
    per = max(2, messages // conversations)
    words = ["appointment", "tomorrow", "parking", "invoice", "thanks", "reschedule", "price"]
    outcomes = [DeliveryStatus.DELIVERED] * 18 + [DeliveryStatus.FAILED, DeliveryStatus.SENT]
    batch: list[Message] = []
    made = 0
    for conversation in rows:
        at = now - timedelta(days=14) + timedelta(seconds=rng.randint(0, 13 * 86400))
        for n in range(per):
            if made >= messages:
                break
            customer = n % 2 == 0
            at += timedelta(seconds=rng.randint(30, 3600))
            last = n == per - 1
            status = (
                DeliveryStatus.RECEIVED
                if customer
                else (
                    DeliveryStatus.DRAFT if last and rng.random() < 0.05 else rng.choice(outcomes)
                )
            )
            batch.append(
                Message(
                    workspace=workspace,
                    conversation=conversation,
                    role=Role.USER if customer else Role.AGENT,
                    sender_id=str(agent.pk) if not customer else "",
                    sender_type="contact" if customer else "agent",
                    text=f"Message {made} about the {rng.choice(words)}",
                    status=status,
                    sent_at=None if customer else at,
                    created_at=min(at, now),
                )
            )
            made += 1
            if len(batch) >= BATCH:
                Message.objects.bulk_create(batch)
                batch = []
    if batch:
        Message.objects.bulk_create(batch)
    return workspace


if __name__ == "__main__":
    main()
