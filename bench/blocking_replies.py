"""Benchmark: N concurrent blocking generate-reply calls (seed 002).

Starts a fake Anthropic Messages API that answers after --delay seconds, starts the web
process exactly as the Procfile's `web` line does, fires N concurrent
`POST /v1/conversations/{id}/messages` with `action: generate-reply` (one conversation
each) and prints the wall time and errors. Targets on the 2-core machine: 50 concurrent
in at most 3 s, 200 in at most 6 s, no errors.

    .venv/bin/python bench/blocking_replies.py            # PostgreSQL at DATABASE_URL
    .venv/bin/python bench/blocking_replies.py --concurrency 50 200 --delay 1.0
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import procfile_command, wait_for

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/messaging_bench"


def post(url: str, headers: dict, body: dict) -> tuple[int, float]:
    started = time.monotonic()
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return status, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--port", type=int, default=8611)
    parser.add_argument("--fake-port", type=int, default=8612)
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DB),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "ANTHROPIC_API_KEY": "sk-ant-bench",
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{args.fake_port}",
        "API_RATE_LIMIT": "100000/min",
        "PORT": str(args.port),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")})
    python = sys.executable
    subprocess.run(
        [
            "psql",
            env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres",
            "-qc",
            f"CREATE DATABASE {env['DATABASE_URL'].rsplit('/', 1)[1]}",
        ],
        capture_output=True,
        check=False,
    )
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from agents.models import Agent
    from conversations.models import Conversation
    from workspaces.services import workspace_create

    workspace, raw_key = workspace_create(name="bench")
    agent = Agent.objects.create(workspace=workspace, name="bench", max_tokens=64)
    total = sum(args.concurrency)
    conversations = Conversation.objects.bulk_create(
        Conversation(workspace=workspace, agent=agent) for _ in range(total)
    )
    from django.db import connections

    connections.close_all()

    fake = subprocess.Popen(
        [
            python,
            "-m",
            "tests.fakes.anthropic",
            "--port",
            str(args.fake_port),
            "--delay",
            str(args.delay),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    web = subprocess.Popen(
        ["bash", "-c", f"exec {procfile_command('web').replace('--access-logfile -', '')}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{args.port}/healthz")
        headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
        body = {"role": "user", "content": "Hello there", "action": "generate-reply"}
        offset = 0
        print(f"web: {procfile_command('web')}")
        print(f"model latency (fake): {args.delay:.1f} s")
        for n in args.concurrency:
            batch = conversations[offset : offset + n]
            offset += n
            urls = [f"http://127.0.0.1:{args.port}/v1/conversations/{c.pk}/messages" for c in batch]
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=n) as pool:
                results = list(pool.map(lambda u: post(u, headers, body), urls))
            wall = time.monotonic() - started
            errors = sum(1 for status, _ in results if status != 201)
            slowest = max(t for _, t in results)
            print(
                f"concurrent={n:4d}  wall={wall:5.2f} s  slowest={slowest:5.2f} s  "
                f"errors={errors}  statuses={sorted({s for s, _ in results})}"
            )
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        fake.terminate()
        web.wait(timeout=10)
        fake.wait(timeout=10)
        workspace.delete()


if __name__ == "__main__":
    main()
