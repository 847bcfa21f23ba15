"""`make run`'s first-run set-up: a demo workspace with an agent and an SMS flow, made
once; each run revokes the previous demo key and prints a new one with a curl."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from agents.models import Agent
from channels.models import Channel
from flows.models import Direction, MessageFlow
from flows.openapi import SEED_003_REQUEST
from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_create, api_key_revoke

DEMO_WORKSPACE = "Demo workspace"
DEMO_KEY_NAME = "make run demo key"


class Command(BaseCommand):
    help = "Create the demo workspace once and print a fresh API key and a curl to try."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL)

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        workspace = Workspace.objects.filter(name=DEMO_WORKSPACE).order_by("created_at").first()
        if workspace is None:
            workspace = Workspace.objects.create(name=DEMO_WORKSPACE)
            agent = Agent.objects.create(
                workspace=workspace,
                name="Demo concierge",
                instructions="You are a friendly, brief assistant for a small clinic.",
            )
            workspace.default_flow = MessageFlow.objects.create(
                workspace=workspace,
                name="Appointment reminders",
                direction=Direction.BIDIRECTIONAL,
                agent=agent,
                prompt="Confirm or reschedule the customer's appointment.",
                initiation_message="Hi {{customer.name}}, reply YES to confirm tomorrow's visit.",
                message_channel=Channel.SMS,
                is_active=True,
            )
            workspace.save(update_fields=["default_flow"])
        agent = workspace.agents.order_by("created_at").first()
        for old in ApiKey.objects.filter(workspace=workspace, name=DEMO_KEY_NAME):
            api_key_revoke(api_key=old)
        _, raw_key = api_key_create(workspace=workspace, name=DEMO_KEY_NAME)

        body = json.dumps({**SEED_003_REQUEST, "agent": str(agent.pk)})
        base = str(options["base_url"]).rstrip("/")
        self.stdout.write(f"Workspace id: {workspace.pk}")
        self.stdout.write(f"API key:      {raw_key}")
        self.stdout.write(f"Agent id:     {agent.pk}")
        self.stdout.write("Create seed 003's message flow:")
        self.stdout.write(
            f"curl -sS -X POST {base}/v1/api/message-flows "
            f"-H 'Authorization: Bearer {raw_key}' -H 'x-workspace-id: {workspace.pk}' "
            f"-H 'Content-Type: application/json' -d '{body}'"
        )
        self.stdout.write("Send a message; the agent's reply arrives as events (offline model):")
        self.stdout.write(
            f"curl -sS -X POST {base}/v1/messages -H 'Authorization: Bearer {raw_key}' "
            "-H 'Content-Type: application/json' "
            """-d '{"sender_id": "usr_1", "sender_type": "user", "text": "Hello!"}'"""
        )
        self.stdout.write(
            f"curl -sS '{base}/v1/events?wait=10' -H 'Authorization: Bearer {raw_key}'"
        )
        self.stdout.write(f"API docs: {base}/v1/docs  Admin: {base}/admin/")
