"""Every benchmark in bench/, one after the other (`make bench`), their output shown as
it comes, then one table of the figures, each beside its target and the figure
docs/operations.md holds from before.

    .venv/bin/python bench/all.py                 # about 8 minutes on the 2-core machine
    .venv/bin/python bench/all.py --quick         # shorter runs, for a first look
    .venv/bin/python bench/all.py --only api webhooks

Each benchmark gets its own PostgreSQL database (created and dropped by the script) and
the Redis database BENCH_REDIS_URL (default redis://127.0.0.1:6379/12), which must not be
one other workers use: the Celery workers started here would take their tasks.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def run(name: str, args: list[str], env: dict) -> str:
    """Runs bench/<name>.py, echoing its output line by line; returns the output."""
    print(f"\n=== bench/{name}.py {' '.join(args)}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "bench" / f"{name}.py"), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in process.stdout:
        if not line.startswith("RESULTS "):
            print(f"  {line}", end="", flush=True)
        lines.append(line)
    process.wait()
    print(f"=== {name}: {time.monotonic() - started:.0f} s, exit {process.returncode}", flush=True)
    return "".join(lines)


def found(pattern: str, output: str) -> re.Match | None:
    return re.search(pattern, output)


def api_rows(output: str) -> list[tuple[str, str, str, str]]:
    line = next((x for x in output.splitlines() if x.startswith("RESULTS ")), None)
    if line is None:
        return [("api", "no result", "", "")]
    results = json.loads(line.removeprefix("RESULTS "))
    targets = {
        "bare DRF insert": "",
        "POST /v1/messages": ">= 0.5x bare",
        "POST /v1/conversations/{id}/messages": "",
        "GET /v1/conversations/{id}/messages": ">= 0.6x bare",
        "GET /v1/events": ">= 0.6x bare",
        "one workspace": "",
        "two workspaces": "~ one workspace (no lock)",
    }
    # The three runs of 2026-12-01 02:35-02:57 that docs/operations.md holds.
    before = {
        "POST /v1/messages": "0.57-0.61x bare (CPU 0.59-0.63x)",
        "POST /v1/conversations/{id}/messages": "0.18x bare",
        "GET /v1/conversations/{id}/messages": "0.62-0.66x bare (CPU 0.64-0.67x)",
        "GET /v1/events": "0.64-0.67x bare (CPU 0.62-0.65x)",
        "two workspaces": "0.96-1.04x one workspace",
    }
    rows = []
    for name, r in results.items():
        ratio = ""
        if r["ratio"] is not None:
            ratio = f", {r['ratio']:.2f}x bare (CPU {r['cpu_ratio']:.2f}x)"
        figure = (
            f"{r['rps']:.0f} req/s ({r['rps_min']:.0f}-{r['rps_max']:.0f}){ratio}, "
            f"p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, errors {r['errors']}, "
            f"CPU/request {r['cpu_ms']:.1f} ms + PostgreSQL {r['db_cpu_ms']:.1f} ms"
        )
        if name == "two workspaces" and "one workspace" in results:
            figure += f"; {r['rps'] / results['one workspace']['rps']:.2f}x one workspace"
        rows.append((f"api: {name}", figure, targets.get(name, ""), before.get(name, "")))
    return rows


def blocking_rows(output: str) -> list[tuple[str, str, str, str]]:
    rows = []
    before = {"50": "2.1-2.5 s", "200": "5.4-5.5 s"}
    target = {"50": "<= 3 s", "200": "<= 6 s"}
    for m in re.finditer(
        r"concurrent=\s*(\d+)\s+wall=\s*([\d.]+) s\s+slowest=\s*([\d.]+) s\s+errors=(\d+)", output
    ):
        n, wall, _slowest, errors = m.groups()
        rows.append(
            (
                f"blocking_replies: {n} concurrent",
                f"{wall} s, errors {errors}",
                target.get(n, ""),
                before.get(n, ""),
            )
        )
    return rows or [("blocking_replies", "no result", "", "")]


def dispatch_rows(output: str) -> list[tuple[str, str, str, str]]:
    rows = []
    backlog = found(
        r"backlog=(\d+)\s+drained in ([\d.]+) s\s+(\d+) sends/s\s+duplicates=(\d+)\s+losses=(\d+)",
        output,
    )
    if backlog:
        count, _, rate, dup, lost = backlog.groups()
        rows.append(
            (
                f"dispatch: {count} due at once",
                f"{rate} sends/s, duplicates {dup}, losses {lost}",
                ">= 300 sends/s",
                "467-477 sends/s",
            )
        )
    stream = found(
        r"stream=(\d+) at (\d+)/s\s+lateness p50=([\d.]+) s\s+p99=([\d.]+) s\s+max=([\d.]+) s"
        r"\s+duplicates=(\d+)\s+losses=(\d+)",
        output,
    )
    if stream:
        count, rate, p50, p99, worst, dup, lost = stream.groups()
        rows.append(
            (
                f"dispatch: stream of {count} at {rate}/s",
                f"lateness p50 {p50} s, p99 {p99} s, max {worst} s, dup {dup}, lost {lost}",
                "p99 <= 2 s",
                "p50 0.01 s, p99 0.02 s, max 0.87-1.34 s",
            )
        )
    return rows or [("dispatch", "no result", "", "")]


def webhooks_rows(output: str) -> list[tuple[str, str, str, str]]:
    delivered = found(r"deliveries: (\d+)/(\d+)", output)
    rate = found(r"deliveries per second: (\d+)", output)
    latency = found(r"event to delivery: p50 ([\d.]+) s, p99 ([\d.]+) s", output)
    if not (delivered and rate and latency):
        return [("webhooks", "no result", "", "")]
    return [
        (
            "webhooks: events at 50/s to 5 endpoints",
            f"{rate.group(1)} deliveries/s ({delivered.group(1)}/{delivered.group(2)}), "
            f"p50 {latency.group(1)} s, p99 {latency.group(2)} s",
            ">= 200/s, p99 < 2 s",
            "249/s, p50 0.05 s, p99 1.0 s",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument(
        "--only", nargs="*", default=["api", "blocking_replies", "dispatch", "webhooks"]
    )
    args = parser.parse_args()
    quick = args.quick
    benches = {
        "api": (
            ["--rounds", "1", "--duration", "5"] if quick else [],
            {"BENCH_DATABASE_URL": f"{PG}/messaging_bench_api", "BENCH_REDIS_URL": REDIS},
            api_rows,
        ),
        "blocking_replies": (
            [],
            {"DATABASE_URL": f"{PG}/messaging_bench", "REDIS_URL": REDIS},
            blocking_rows,
        ),
        "dispatch": (
            ["--backlog", "2000", "--stream-seconds", "20"] if quick else [],
            {
                "BENCH_DATABASE_URL": f"{PG}/messaging_bench_dispatch",
                "BENCH_REDIS_URL": REDIS,
            },
            dispatch_rows,
        ),
        "webhooks": (
            ["--events", "1000"] if quick else [],
            {"DATABASE_URL": f"{PG}/messaging_webhooks_bench", "REDIS_URL": REDIS},
            webhooks_rows,
        ),
    }
    rows: list[tuple[str, str, str, str]] = []
    for name in args.only:
        options, env, parse = benches[name]
        rows += parse(run(name, options, env))

    print("\n| bench | measured | target | before (docs/operations.md) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
