"""The webhook models moved from the channels app to their own: a database that holds
endpoints, deliveries and attempts keeps every row through the move."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("messaging_channels", "0002_webhooks"),
    ("conversations", "0004_message_message_provider_id_unique"),
    ("workspaces", "0003_workspace_help_text"),
]


@pytest.mark.django_db(transaction=True)
def test_endpoints_deliveries_and_attempts_survive_the_move_to_the_webhooks_app():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([*BEFORE, ("webhooks", None)])
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    workspace = old.get_model("workspaces", "Workspace").objects.create(name="Acme")
    endpoint = old.get_model("messaging_channels", "WebhookEndpoint").objects.create(
        workspace=workspace, url="https://example.com/hook", secret="whsec_x"
    )
    event = old.get_model("conversations", "Event").objects.create(
        workspace=workspace, sequence=1, type="message.created", data={}
    )
    delivery = old.get_model("messaging_channels", "WebhookDelivery").objects.create(
        endpoint=endpoint, event=event
    )
    old.get_model("messaging_channels", "WebhookAttempt").objects.create(
        delivery=delivery, started_at=timezone.now(), status_code=500
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)

    from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

    moved = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert moved.url == "https://example.com/hook"
    assert moved.workspace_id == workspace.pk
    assert WebhookDelivery.objects.get(pk=delivery.pk).endpoint_id == endpoint.pk
    assert WebhookAttempt.objects.get(delivery_id=delivery.pk).status_code == 500
    assert WebhookEndpoint._meta.db_table in connection.introspection.table_names()
