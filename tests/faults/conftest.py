"""Fault injection: the Procfile's processes (web, worker, beat) as real subprocesses on
the test database and a Redis of the test's own, which the tests stop, kill and restart.
Twilio and Anthropic are the local fakes. Slow by nature: marked `fault`, run by
.ci/run in a step of its own (`pytest -m fault`), not by `make test`."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.e2e.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


@dataclass
class Stack:
    env: dict
    redis_port: int
    web_port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_redis(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is needed for the fault tests (Debian: redis-server)")
        self.processes["redis"] = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        if not wait_until(lambda: _answers(self.redis_port), 10):
            pytest.fail("the test's Redis did not start")

    def stop_redis(self) -> None:
        self.stop("redis")

    def start(self, name: str, argv: list[str]) -> None:
        self.processes[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env)  # noqa: S603

    def start_web(self) -> None:
        self.start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "16",
            ],
        )
        if not wait_until(lambda: _healthy(self.url), 30):
            pytest.fail("the web process did not start")

    def start_worker(self) -> None:
        self.start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--queues",
                "default,llm,delivery,webhooks",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
        )

    def start_beat(self) -> None:
        self.start(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "WARNING",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
            ],
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop_all(self) -> None:
        for name in ["beat", "worker", "web", "redis"]:
            self.stop(name)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def stack(transactional_db, fake_anthropic, fake_twilio, tmp_path) -> Iterator[Stack]:
    """Web, worker and beat on the test database and a private Redis (not started)."""
    redis_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "ANTHROPIC_API_KEY": settings.ANTHROPIC_API_KEY,
        "ANTHROPIC_BASE_URL": settings.ANTHROPIC_BASE_URL,
        "TWILIO_ACCOUNT_SID": settings.TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": settings.TWILIO_AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": settings.TWILIO_FROM_NUMBER,
        "TWILIO_API_BASE_URL": settings.TWILIO_API_BASE_URL,
        "SMS_BACKEND": "twilio",
        "REPLY_SWEEP_GRACE": "1",
        "API_RATE_LIMIT": "100000/min",
        "LOG_LEVEL": "WARNING",
    }
    stack = Stack(env=env, redis_port=redis_port, web_port=web_port)
    try:
        yield stack
    finally:
        stack.stop_all()
