"""`make run`'s first-run set-up: a demo workspace with an agent, an SMS number and a
flow, made once; its API key is kept in var/demo-key so it keeps working from one run
to the next. Prints the key and four commands that tell one story: create a flow, open
a conversation with it, answer as the customer, read the AI's reply in the events."""

import json
import shlex
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from agents.models import Agent
from channels.models import Channel, Sender
from flows.models import Direction, MessageFlow
from flows.openapi import SEED_003_REQUEST
from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_authenticate, api_key_create

DEMO_WORKSPACE = "Demo workspace"
DEMO_KEY_NAME = "make run demo key"
DEMO_NUMBER = "+15005550006"  # Twilio's test number; SMS go to the console here
CUSTOMER = "+14155550123"


class Command(BaseCommand):
    help = "Create the demo workspace once and print its API key and a first story to try."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL)
        parser.add_argument(
            "--key-file",
            default=str(Path(settings.VAR_DIR) / "demo-key"),
            help="Where the demo key is kept between runs (embedded set-up only).",
        )

    @transaction.atomic
    def handle(self, *args: object, **options: str) -> None:
        workspace = Workspace.objects.filter(name=DEMO_WORKSPACE).order_by("created_at").first()
        if workspace is None:
            workspace = _create_demo()
        agent = workspace.agents.order_by("created_at").first()
        raw_key = _demo_key(workspace, Path(options["key_file"]))
        self._story(options["base_url"].rstrip("/"), workspace, agent, raw_key)

    def _story(self, base: str, workspace: Workspace, agent: Agent, key: str) -> None:
        auth = f"-H 'Authorization: Bearer {key}' -H 'x-workspace-id: {workspace.pk}'"
        flow = json.dumps({**SEED_003_REQUEST, "agent": str(agent.pk)})
        generate = json.dumps(
            {
                "flowId": "FLOW_ID",
                "to": CUSTOMER,
                "metadata": {"customerDetails": {"name": "Sam"}},
                "autopilot": True,
            }
        ).replace('"FLOW_ID"', '"\'"$FLOW"\'"')
        write = self.stdout.write
        write(f"Workspace id: {workspace.pk}")
        write(f"API key:      {key}  (kept in var/demo-key; the same on every run)")
        write(f"API docs: {base}/v1/docs   Admin: {base}/admin/")
        write("")
        write("1. Create a message flow (its id goes into $FLOW):")
        write(
            f"FLOW=$(curl -sS -X POST {base}/v1/api/message-flows {auth} "
            f"-H 'Content-Type: application/json' -d {shlex.quote(flow)} "
            """| python3 -c 'import json,sys; print(json.load(sys.stdin)["_id"])'); echo $FLOW"""
        )
        write("2. Open a conversation with it (the SMS appears in the worker's console):")
        write(
            f"curl -sS -X POST {base}/v1/api/conversations/message/generate {auth} "
            f"-H 'Content-Type: application/json' -d '{generate}'"
        )
        write("3. Answer as the customer, through the signed Twilio webhook:")
        write(
            f".venv/bin/python manage.py simulate_inbound --from {CUSTOMER} "
            f"--to {DEMO_NUMBER} --body 'Yes, see you then' --base-url {base}"
        )
        write("4. Read what happened, the AI's reply included (offline model):")
        write(f"curl -sS '{base}/v1/events?wait=10' {auth}")


def _create_demo() -> Workspace:
    workspace = Workspace.objects.create(name=DEMO_WORKSPACE)
    agent = Agent.objects.create(
        workspace=workspace,
        name="Demo concierge",
        instructions="You are a friendly, brief assistant for a small clinic.",
    )
    Sender.objects.create(
        workspace=workspace, channel=Channel.SMS, address=DEMO_NUMBER, is_default=True
    )
    workspace.default_flow = MessageFlow.objects.create(
        workspace=workspace,
        name="Appointment reminders",
        direction=Direction.BIDIRECTIONAL,
        agent=agent,
        prompt="Confirm or reschedule the customer's appointment.",
        initiation_message="Hi {{customer.name|there}}, reply YES to confirm tomorrow's visit.",
        message_channel=Channel.SMS,
        is_active=True,
        autopilot=True,
    )
    workspace.save(update_fields=["default_flow"])
    return workspace


def _demo_key(workspace: Workspace, key_file: Path) -> str:
    """The kept demo key while it still works (not revoked, same database), else a new
    one, written to `key_file` readable by this user only."""
    if key_file.is_file():
        kept = key_file.read_text().strip()
        api_key = api_key_authenticate(kept)
        if api_key is not None and api_key.workspace_id == workspace.pk:
            return kept
    _, raw_key = api_key_create(
        workspace=workspace, name=DEMO_KEY_NAME, scopes=ApiKey.Scopes.READ_WRITE
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(raw_key + "\n")
    key_file.chmod(0o600)
    return raw_key
