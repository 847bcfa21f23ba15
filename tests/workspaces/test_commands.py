import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from workspaces.models import Workspace


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def client_for(raw_key: str, workspace_id: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}", HTTP_X_WORKSPACE_ID=workspace_id)
    return client


@pytest.mark.django_db
def test_create_workspace_prints_exactly_one_json_object_with_a_working_key():
    output = run("create_workspace", "Acme", "--json")

    created = json.loads(output)
    assert set(created) == {"workspaceId", "apiKey"}
    assert Workspace.objects.get(pk=created["workspaceId"]).name == "Acme"
    client = client_for(created["apiKey"], created["workspaceId"])
    assert client.post("/v1/api/agents", {"name": "a"}, format="json").status_code == 201


@pytest.mark.django_db
def test_create_api_key_with_read_scope_gives_a_read_only_key():
    workspace_id = json.loads(run("create_workspace", "Acme", "--json"))["workspaceId"]

    created = json.loads(run("create_api_key", workspace_id, "--scope", "read", "--json"))

    assert set(created) == {"apiKey"}
    client = client_for(created["apiKey"], workspace_id)
    assert client.get("/v1/api/agents").status_code == 200
    assert client.post("/v1/api/agents", {"name": "a"}, format="json").status_code == 403


@pytest.mark.django_db
def test_create_api_key_for_an_unknown_workspace_fails_clearly():
    with pytest.raises(CommandError, match="No workspace with id nope"):
        run("create_api_key", "nope", "--json")
