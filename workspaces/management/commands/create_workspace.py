import json

from django.core.management.base import BaseCommand, CommandParser

from workspaces.services import workspace_create


class Command(BaseCommand):
    help = "Create a workspace and a read+write API key for it (the key is shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: object, **options: object) -> None:
        workspace, raw_key = workspace_create(name=str(options["name"]))
        if options["json"]:
            self.stdout.write(json.dumps({"workspaceId": str(workspace.pk), "apiKey": raw_key}))
            return
        self.stdout.write(f"Workspace {workspace.name}: {workspace.pk}")
        self.stdout.write(f"API key (shown once): {raw_key}")
