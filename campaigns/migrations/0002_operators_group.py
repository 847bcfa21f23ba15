# The "Operators" group (workspaces 0004) may follow and steer their workspaces'
# campaigns in the admin: read them and their recipients, pause, resume and cancel
# (a change). Campaigns are created through the API; their rows are a record.

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.models import Q

GROUP = "Operators"
PERMISSIONS = {
    "campaign": ("view", "change"),
    "campaignrecipient": ("view",),
}


def _wanted(apps, db):
    # Permissions are created by post_migrate, after the last migration: on a fresh
    # database they do not exist yet (see workspaces 0004).
    app_config = apps.get_app_config("campaigns")
    app_config.models_module = True
    try:
        create_permissions(app_config, verbosity=0, using=db, apps=apps)
    finally:
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    wanted = Q()
    for model, actions in PERMISSIONS.items():
        wanted |= Q(
            content_type__app_label="campaigns",
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return list(Permission.objects.using(db).filter(wanted))


def grant(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(db).filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(*_wanted(apps, db))


def revoke(apps, schema_editor):
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(db).filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_wanted(apps, db))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("workspaces", "0004_operators_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
