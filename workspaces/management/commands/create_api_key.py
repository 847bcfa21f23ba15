import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_create

SCOPES = {"read": ApiKey.Scopes.READ, "write": ApiKey.Scopes.READ_WRITE}


class Command(BaseCommand):
    help = "Create an API key for a workspace (the key is shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workspace_id")
        parser.add_argument(
            "--scope",
            choices=sorted(SCOPES),
            default="write",
            help="read: read-only; write (default): read and write.",
        )
        parser.add_argument("--name", default="")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args: object, **options: object) -> None:
        try:
            workspace = Workspace.objects.get(pk=options["workspace_id"])
        except (Workspace.DoesNotExist, ValidationError):
            raise CommandError(f"No workspace with id {options['workspace_id']}.") from None
        _, raw_key = api_key_create(
            workspace=workspace, scopes=SCOPES[str(options["scope"])], name=str(options["name"])
        )
        if options["json"]:
            self.stdout.write(json.dumps({"apiKey": raw_key}))
        else:
            self.stdout.write(f"API key (shown once): {raw_key}")
