# The "Operators" group may also start campaigns in the admin (upload a CSV, preview,
# start): campaigns' add permission. The rows stay a record (view only).

import importlib

from django.db import migrations

GROUP = "Operators"
PERMISSIONS = {"campaign": ("add",)}

_0002 = importlib.import_module("campaigns.migrations.0002_operators_group")


def _wanted(apps, db):
    Permission = apps.get_model("auth", "Permission")
    _0002._wanted(apps, db)  # creates the permissions on a fresh database
    return list(
        Permission.objects.using(db).filter(
            content_type__app_label="campaigns",
            content_type__model="campaign",
            codename="add_campaign",
        )
    )


def grant(apps, schema_editor):
    db = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(db).filter(name=GROUP).first()
    if group is not None:
        group.permissions.add(*_wanted(apps, db))


def revoke(apps, schema_editor):
    db = schema_editor.connection.alias
    group = apps.get_model("auth", "Group").objects.using(db).filter(name=GROUP).first()
    if group is not None:
        group.permissions.remove(*_wanted(apps, db))


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0003_recipient_details_sealed")]

    operations = [migrations.RunPython(grant, revoke)]
