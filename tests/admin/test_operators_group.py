"""The "Operators" group, made by a data migration, is all a staff user needs to run
their workspaces in the admin."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

EXPECTED = {
    "agents": {"view_agent", "add_agent", "change_agent", "delete_agent"},
    "flows": {"view_messageflow", "add_messageflow", "change_messageflow", "delete_messageflow"},
    "messaging_channels": {"view_sender", "add_sender", "change_sender", "delete_sender"},
    "conversations": {
        "view_contact",
        "add_contact",
        "change_contact",
        "delete_contact",
        "view_conversation",
        "change_conversation",
        "view_message",
        "view_event",
    },
    "webhooks": {
        "view_webhookendpoint",
        "add_webhookendpoint",
        "change_webhookendpoint",
        "delete_webhookendpoint",
        "view_webhookdelivery",
        "view_webhookattempt",
    },
    "campaigns": {"view_campaign", "add_campaign", "change_campaign", "view_campaignrecipient"},
    "workspaces": {
        "view_workspace",
        "change_workspace",
        "view_apikey",
        "add_apikey",
        "change_apikey",
    },
}


def _granted(group: Group) -> dict[str, set[str]]:
    granted: dict[str, set[str]] = {}
    for app_label, codename in group.permissions.values_list("content_type__app_label", "codename"):
        granted.setdefault(app_label, set()).add(codename)
    return granted


@pytest.mark.django_db
def test_the_migration_creates_the_operators_group_with_what_operators_need():
    assert _granted(Group.objects.get(name="Operators")) == EXPECTED


def test_an_operator_in_the_group_sees_the_admin_index_with_their_apps(operator_client, world):
    response = operator_client.get("/admin/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "permission to view or edit anything" not in page
    for model in ("Agents", "Message flows", "Senders", "Conversations", "API keys"):
        assert f">{model}<" in page, model
    assert "Periodic tasks" not in page
    assert ">Users<" not in page


@pytest.mark.django_db(transaction=True)
def test_the_operators_group_migration_reverses_and_reapplies():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()

    executor.migrate([("workspaces", "0003_workspace_help_text")])
    assert not Group.objects.filter(name="Operators").exists()

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)
    assert _granted(Group.objects.get(name="Operators")) == EXPECTED
