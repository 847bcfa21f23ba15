"""Health endpoints, the deployment check and the settings' documentation."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def beat_ticking(db, settings):
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        PeriodicTask.objects.create(
            name=name, task=entry["task"], interval=every, last_run_at=timezone.now()
        )


def test_readyz_checks_database_broker_cache_and_beat(client, beat_ticking):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["checks"] == {"database": True, "broker": True, "cache": True, "beat": True}
    assert body["status"] == "ok"


def test_a_broker_outage_is_degraded_not_unready(client, monkeypatch, beat_ticking):
    """The API still takes and stores messages without Redis: stay in rotation."""
    from core import health

    def refuse(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(health.celery_app, "connection_for_write", refuse)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["degraded"] == ["broker"]


def test_a_stopped_beat_or_a_disabled_sweep_is_named(client, beat_ticking):
    from django_celery_beat.models import PeriodicTask

    PeriodicTask.objects.filter(name="dispatch-due-messages").update(enabled=False)
    body = client.get("/readyz").json()
    assert body["degraded"] == ["beat"]
    assert body["beat"]["disabled"] == ["dispatch-due-messages"]

    PeriodicTask.objects.update(enabled=True, last_run_at="2020-01-01T00:00:00Z")
    body = client.get("/readyz").json()
    assert body["beat"]["ticking"] is False
    assert body["degraded"] == ["beat"]


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "_database_ok", lambda: False)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def production_env(**extra: str) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE", "REDIS"))
    }
    env.update(
        DEBUG="false",
        SECRET_KEY="x" * 64 + "-production-like-secret-for-the-check-only",
        ALLOWED_HOSTS="api.example.com",
        PUBLIC_BASE_URL="https://api.example.com",
        DATABASE_URL="postgres://user:pw@db.example.com:5432/messaging",
        REDIS_URL="redis://cache.example.com:6379/0",
        **extra,
    )
    return env


def test_check_deploy_is_clean_with_production_values():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_refuses_to_start():
    env = production_env()
    del env["SECRET_KEY"]

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_every_setting_read_from_the_environment_is_in_env_example():
    source = (ROOT / "config" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', source))
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))

    assert read
    assert read <= documented, read - documented
