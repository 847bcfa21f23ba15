"""A newcomer's first hour: `make run`'s demo and the story it prints, played against a
live server: create a flow, open a conversation, answer as the customer through the
signed Twilio webhook (simulate_inbound), and read the AI's reply in the events."""

import json
import shlex
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations.models import Conversation
from workspaces.models import ApiKey, Workspace

BASH = shutil.which("bash") or "/bin/bash"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_running_the_demo_again_keeps_its_key_working(tmp_path):
    key_file = tmp_path / "demo-key"
    first = run("bootstrap_demo", "--key-file", str(key_file))
    second = run("bootstrap_demo", "--key-file", str(key_file))

    key = key_file.read_text().strip()
    assert Workspace.objects.count() == 1
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert key in first
    assert key in second
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


@pytest.mark.django_db
def test_a_revoked_demo_key_is_replaced(tmp_path):
    key_file = tmp_path / "demo-key"
    run("bootstrap_demo", "--key-file", str(key_file))
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")

    output = run("bootstrap_demo", "--key-file", str(key_file))

    assert key_file.read_text().strip() in output
    assert ApiKey.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_printed_story_works_end_to_end(
    live_server, settings, tmp_path, celery_eager, transactional_db
):
    settings.PUBLIC_BASE_URL = live_server.url
    output = run(
        "bootstrap_demo", "--key-file", str(tmp_path / "key"), "--base-url", live_server.url
    )
    commands = [line for line in output.splitlines() if line.startswith(("FLOW=", "curl", ".venv"))]
    assert len(commands) == 4, output

    shell = "set -e\n" + "\n".join(commands[:2])
    created = subprocess.run(  # noqa: S603
        [BASH, "-c", shell], capture_output=True, text=True, timeout=30, check=True
    )
    opened = json.loads(created.stdout.strip().splitlines()[-1])
    assert opened["delivery_status"] == "scheduled"

    simulate = shlex.split(commands[2])
    assert simulate[1:3] == ["manage.py", "simulate_inbound"]
    assert simulate[-2:] == ["--base-url", live_server.url]  # the port it runs on
    run(*simulate[2:])

    conversation = Conversation.objects.get(pk=opened["conversation_id"])
    said = list(conversation.messages.order_by("created_at").values_list("role", flat=True))
    assert said[:2] == ["agent", "user"]  # the opening message, the customer's answer
    assert conversation.messages.filter(role="agent", llm_model__startswith="offline").exists()
    events = subprocess.run(  # noqa: S603
        [BASH, "-c", commands[3].replace("wait=10", "wait=0")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "reply.generated" in events.stdout


@pytest.mark.django_db
def test_simulate_inbound_says_when_the_service_is_not_running():
    with pytest.raises(CommandError, match="Is the service running"):
        run(
            "simulate_inbound",
            "--from",
            "+14155550123",
            "--to",
            "+15005550006",
            "--body",
            "hi",
            "--base-url",
            "http://127.0.0.1:9",
        )
