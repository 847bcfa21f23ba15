# The "Operators" group: what a staff user needs to run their workspaces in the admin.
# Which workspaces those are is Workspace.operators (set by a superuser); the admin
# scopes every page to them.

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

GROUP = "Operators"
VIEW = ("view",)
ALL = ("view", "add", "change", "delete")

# (app label, model): actions. Messages, events and webhook deliveries are logs (read
# only); API keys are issued and revoked (a change), never deleted, so the trail stays.
PERMISSIONS = {
    ("agents", "agent"): ALL,
    ("flows", "messageflow"): ALL,
    ("messaging_channels", "sender"): ALL,
    ("conversations", "contact"): ALL,
    ("webhooks", "webhookendpoint"): ALL,
    ("workspaces", "workspace"): ("view", "change"),
    ("conversations", "conversation"): ("view", "change"),
    ("conversations", "message"): VIEW,
    ("conversations", "event"): VIEW,
    ("webhooks", "webhookdelivery"): VIEW,
    ("webhooks", "webhookattempt"): VIEW,
    ("workspaces", "apikey"): ("view", "add", "change"),
}


def create_operators_group(apps, schema_editor):
    db = schema_editor.connection.alias
    # Permissions are created by post_migrate, after the last migration: on a fresh
    # database they do not exist yet here. create_permissions skips an app config without
    # a models module, which the historical ones lack, so it is set for the call.
    for label in sorted({label for label, _ in PERMISSIONS}):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        try:
            create_permissions(app_config, verbosity=0, using=db, apps=apps)
        finally:
            app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Q()
    for (label, model), actions in PERMISSIONS.items():
        wanted |= Q(
            content_type__app_label=label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    permissions = list(Permission.objects.using(db).filter(wanted))
    expected = sum(len(actions) for actions in PERMISSIONS.values())
    if len(permissions) != expected:
        raise RuntimeError(f"Found {len(permissions)} of the {expected} operator permissions.")
    group, _ = Group.objects.using(db).get_or_create(name=GROUP)
    group.permissions.add(*permissions)


def delete_operators_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("conversations", "0004_message_message_provider_id_unique"),
        ("flows", "0005_reply_delay_fractional_seconds"),
        ("messaging_channels", "0003_webhook_models_move_to_webhooks"),
        ("webhooks", "0002_tables_and_content_types"),
        ("workspaces", "0003_workspace_help_text"),
    ]

    operations = [
        migrations.RunPython(create_operators_group, delete_operators_group),
    ]
