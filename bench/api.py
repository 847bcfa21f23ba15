"""Benchmark: the API's hot paths side by side with a bare DRF insert.

One server process, started from the Procfile's `web` line with bench.bare_settings
(the project's settings and routes plus bench/bare.py's view), serves every run; wrk
(Debian's package, `make bench` installs it) loads it with keep-alive connections
(no TIME_WAIT exhaustion) and bench/wrk.lua for the POST bodies. Every run of a
workload comes right after a bare run, its ratio is to that one, and the figure is the
median over the rounds, so drift on a shared machine touches both sides alike:

- bare: POST /bench/bare, seed 001's body validated by a serializer, one INSERT;
- POST /v1/messages (seed 001, auto_reply false, an existing conversation);
- POST /v1/conversations/{id}/messages (seed 002, no generate-reply);
- GET /v1/conversations/{id}/messages and GET /v1/events (a page of --page rows);
- POST /v1/messages for one workspace, then for two workspaces at once (half the
  connections each), each spread over SPREAD conversations: with no per-workspace lock
  one busy workspace gets the whole machine, so two do no better than one; with a lock
  (as before) one workspace queued on it and two did better.

Prints requests/s, p50 and p99 latency, errors (non-2xx and socket errors), the server's
CPU time per request (its processes' user and system time over the run, from /proc: a
cost that other load on a shared machine hardly changes, unlike requests/s) and both as
ratios to bare, per round and as the median over the rounds. Targets: POST /v1/messages at
least 0.5x bare, reads at least 0.6x.

    .venv/bin/python bench/api.py                     # 3 rounds of 6 s per run
    .venv/bin/python bench/api.py --rounds 3 --duration 15 --connections 16
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from common import fresh_stores, procfile_command, wait_for

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/messaging_bench_api"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
LUA = ROOT / "bench" / "wrk.lua"
# The workspace runs write to this many conversations each, in turn: writers of one
# conversation queue on its row lock (replies rely on it), which is not what they measure.
SPREAD = 8
DATABASE = ""  # the benchmark's database name, set by main()
BARE = "bare DRF insert"


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms: float = float("nan")  # the server's CPU time per request
    db_cpu_ms: float = float("nan")  # PostgreSQL's, for this database


def cpu_seconds(group: int, database: str) -> tuple[float, float]:
    """CPU time used so far by the server's processes (its process group) and by the
    PostgreSQL backends connected to `database`, from /proc: per request, costs that
    other load on the machine hardly changes."""
    server = backends = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            used = int(fields[11]) + int(fields[12])  # utime, stime
            if int(fields[2]) == group:  # pgrp
                server += used
            elif f" {database} ".encode() in (proc / "cmdline").read_bytes():
                backends += used  # "postgres: user database host(port) state"
        except (OSError, IndexError, ValueError):
            continue
    tick = os.sysconf("SC_CLK_TCK")
    return server / tick, backends / tick


@dataclass
class Workload:
    name: str
    method: str
    path: str
    key: str
    body: dict | list[dict] | None = None  # several: sent in turn
    group: str = "write"  # write, read, bare


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def parse_wrk(output: str) -> Run:
    """Requests/s, p50, p99, request and error counts from `wrk --latency`'s report."""

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        return _ms(*found.groups()) if found else float("nan")

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    return Run(
        requests_per_second=float(rps.group(1)) if rps else 0.0,
        p50_ms=percentile("50"),
        p99_ms=percentile("99"),
        requests=int(total.group(1)) if total else 0,
        errors=errors,
    )


def wrk(base: str, workload: Workload, *, duration: float, connections: int) -> subprocess.Popen:
    bodies = workload.body if isinstance(workload.body, list) else [workload.body]
    bodies = [b for b in bodies if b is not None]
    env = {
        **os.environ,
        "BENCH_METHOD": workload.method,
        "BENCH_BODY": "\n".join(json.dumps(b) for b in bodies),
        "BENCH_KEY": workload.key,
    }
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "-s",
        str(LUA),
        base + workload.path,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def measure(
    base: str, workloads: list[Workload], *, duration: float, connections: int, server: int
) -> list[Run]:
    """The workloads at once, `connections` split between them; one Run each."""
    share = max(1, connections // len(workloads))
    cpu, db_cpu = cpu_seconds(server, DATABASE)
    processes = [wrk(base, w, duration=duration, connections=share) for w in workloads]
    runs = []
    for process in processes:
        output = process.communicate()[0]
        if process.returncode:
            raise SystemExit(f"wrk failed: {output}")
        runs.append(parse_wrk(output))
    after, db_after = cpu_seconds(server, DATABASE)
    requests = max(1, sum(r.requests for r in runs))
    for run in runs:
        run.cpu_ms = (after - cpu) * 1000 / requests
        run.db_cpu_ms = (db_after - db_cpu) * 1000 / requests
    return runs


def combined(runs: list[Run]) -> Run:
    return Run(
        requests_per_second=sum(r.requests_per_second for r in runs),
        p50_ms=max(r.p50_ms for r in runs),
        p99_ms=max(r.p99_ms for r in runs),
        requests=sum(r.requests for r in runs),
        errors=sum(r.errors for r in runs),
        cpu_ms=runs[0].cpu_ms,
        db_cpu_ms=runs[0].db_cpu_ms,
    )


def prepare(env: dict, page: int) -> dict:
    """A fresh database with two workspaces, a conversation to write to in each, one
    with a page of messages to read, a page of events, and the bare view's table."""
    fresh_stores(env)

    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY")})
    os.environ.update({"ALLOWED_HOSTS": env["ALLOWED_HOSTS"]})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, connections

    from bench.bare import CREATE_TABLE
    from conversations.models import Conversation
    from conversations.services import message_create
    from workspaces.services import workspace_create

    with connection.cursor() as cursor:
        cursor.execute(CREATE_TABLE)
    setup = {}
    for label in ("a", "b"):
        workspace, raw_key = workspace_create(name=f"bench {label}")
        setup[f"key_{label}"] = raw_key
        setup[f"write_{label}"] = str(Conversation.objects.create(workspace=workspace).pk)
        setup[f"spread_{label}"] = [
            str(Conversation.objects.create(workspace=workspace).pk) for _ in range(SPREAD)
        ]
    reading = Conversation.objects.get(pk=setup["write_a"]).workspace
    conversation = Conversation.objects.create(workspace=reading)
    for index in range(page * 2):
        message_create(conversation=conversation, role="user", text=f"Message {index}")
    setup["read"] = str(conversation.pk)
    connections.close_all()
    return setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per workload, once")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--page", type=int, default=20, help="page size of the two lists")
    parser.add_argument("--port", type=int, default=8621)
    parser.add_argument(
        "--web", default="", help="a server line to try instead of the Procfile's web line"
    )
    parser.add_argument("--only", nargs="*", default=[], help="names of workloads to run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "API_RATE_LIMIT": "100000000/min",  # measured, not limited (one Redis trip all the same)
        "LOG_LEVEL": "WARNING",
        "PORT": str(args.port),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    global DATABASE
    DATABASE = env["DATABASE_URL"].rsplit("/", 1)[1]
    print("preparing the database ...", flush=True)
    setup = prepare(env, args.page)
    message = {"sender_id": "customer-1", "sender_type": "user", "text": "Is my order ready?"}
    workloads = [
        Workload(BARE, "POST", "/bench/bare", "", message, group="bare"),
        Workload(
            "POST /v1/messages",
            "POST",
            "/v1/messages",
            setup["key_a"],
            {**message, "conversation_id": setup["write_a"], "auto_reply": False},
        ),
        Workload(
            "POST /v1/conversations/{id}/messages",
            "POST",
            f"/v1/conversations/{setup['write_a']}/messages",
            setup["key_a"],
            {"role": "user", "content": "Is my order ready?"},
        ),
        Workload(
            "GET /v1/conversations/{id}/messages",
            "GET",
            f"/v1/conversations/{setup['read']}/messages?limit={args.page}",
            setup["key_a"],
            group="read",
        ),
        Workload(
            "GET /v1/events", "GET", f"/v1/events?limit={args.page}", setup["key_a"], group="read"
        ),
    ]
    pair = [
        Workload(
            f"POST /v1/messages, workspace {label}",
            "POST",
            "/v1/messages",
            setup[f"key_{label}"],
            [
                {**message, "conversation_id": conversation_id, "auto_reply": False}
                for conversation_id in setup[f"spread_{label}"]
            ],
        )
        for label in ("a", "b")
    ]
    names = [w.name for w in workloads] + ["one workspace", "two workspaces"]
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]

    server_line = args.web or procfile_command("web")
    web = subprocess.Popen(
        ["bash", "-c", f"exec {server_line}"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{args.port}"
    results: dict[str, list[Run]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    cpu_ratios: dict[str, list[float]] = {name: [] for name in names}
    try:
        wait_for(f"{base}/healthz")
        print(f"web: {server_line}", flush=True)
        print(
            f"wrk: -c{args.connections}, {args.duration:g} s a run, {args.rounds} rounds",
            flush=True,
        )

        def run_named(name: str, duration: float) -> Run:
            options = {"duration": duration, "connections": args.connections, "server": web.pid}
            if name == "one workspace":
                return measure(base, pair[:1], **options)[0]
            if name == "two workspaces":
                return combined(measure(base, pair, **options))
            return measure(base, [next(w for w in workloads if w.name == name)], **options)[0]

        for name in names:
            run_named(name, args.warmup)
        # Each workload right after a bare run of its own, and its ratio to that one: on
        # a machine other sessions load, throughput moves by half within a minute, so a
        # bare run at the start of a round said little about a run a minute later.
        measured = [name for name in names if name != BARE] if BARE in names else names
        steps = args.rounds * len(measured) * (2 if BARE in names else 1)
        step = 0
        for round_ in range(1, args.rounds + 1):
            for name in measured:
                for current in ([BARE] if BARE in names else []) + [name]:
                    step += 1
                    run = run_named(current, args.duration)
                    results[current].append(run)
                    ratio = ""
                    if current == BARE:
                        bare = run
                    elif BARE in names:
                        ratios[name].append(run.requests_per_second / bare.requests_per_second)
                        cpu_ratios[name].append(bare.cpu_ms / run.cpu_ms)
                        ratio = f"  {ratios[name][-1]:.2f}x bare (CPU: {cpu_ratios[name][-1]:.2f}x)"
                    print(
                        f"[{step}/{steps}] round {round_}  {current:38s} "
                        f"{run.requests_per_second:6.0f} req/s  p50 {run.p50_ms:6.1f} ms  "
                        f"p99 {run.p99_ms:6.1f} ms  errors {run.errors}  "
                        f"CPU ms/request: server {run.cpu_ms:.2f}, "
                        f"PostgreSQL {run.db_cpu_ms:.2f}{ratio}",
                        flush=True,
                    )
        if BARE in names:
            ratios[BARE] = cpu_ratios[BARE] = [1.0]
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)

    print()
    print(
        f"{'run':40s} {'req/s':>12s} {'p50 ms':>7s} {'p99 ms':>7s} {'errors':>6s} "
        f"{'x bare':>6s} {'CPU ms':>6s} {'x bare':>6s} {'PG ms':>6s}"
    )
    for name in names:
        runs = results[name]
        rps = [r.requests_per_second for r in runs]
        spread = f"{min(rps):.0f}-{max(rps):.0f}" if len(rps) > 1 else f"{rps[0]:.0f}"
        ratio = f"{statistics.median(ratios[name]):.2f}" if ratios[name] else "-"
        cpu_ratio = f"{statistics.median(cpu_ratios[name]):.2f}" if cpu_ratios[name] else "-"
        print(
            f"{name:40s} {spread:>12s} {statistics.mean(r.p50_ms for r in runs):7.1f} "
            f"{statistics.mean(r.p99_ms for r in runs):7.1f} {sum(r.errors for r in runs):6d} "
            f"{ratio:>6s} {statistics.mean(r.cpu_ms for r in runs):6.2f} {cpu_ratio:>6s} "
            f"{statistics.mean(r.db_cpu_ms for r in runs):6.2f}",
            flush=True,
        )
    if "one workspace" in results and "two workspaces" in results:
        one = statistics.mean(r.requests_per_second for r in results["one workspace"])
        two = statistics.mean(r.requests_per_second for r in results["two workspaces"])
        print(f"two workspaces / one workspace: {two / one:.2f}", flush=True)
    summary = {
        name: {
            "rps": statistics.mean(r.requests_per_second for r in results[name]),
            "rps_min": min(r.requests_per_second for r in results[name]),
            "rps_max": max(r.requests_per_second for r in results[name]),
            "p50_ms": statistics.mean(r.p50_ms for r in results[name]),
            "p99_ms": statistics.mean(r.p99_ms for r in results[name]),
            "errors": sum(r.errors for r in results[name]),
            "ratio": statistics.median(ratios[name]) if ratios[name] else None,
            "cpu_ms": statistics.mean(r.cpu_ms for r in results[name]),
            "cpu_ratio": statistics.median(cpu_ratios[name]) if cpu_ratios[name] else None,
            "db_cpu_ms": statistics.mean(r.db_cpu_ms for r in results[name]),
        }
        for name in names
    }
    print("RESULTS " + json.dumps(summary), flush=True)  # for bench/all.py


if __name__ == "__main__":
    main()
