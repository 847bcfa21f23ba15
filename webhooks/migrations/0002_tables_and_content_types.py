# The webhook tables take this app's names (rows kept: ALTER TABLE ... RENAME), and so
# do their content types, so permissions granted on them and the admin's history follow.

from django.db import migrations

MODELS = ["webhookendpoint", "webhookdelivery", "webhookattempt"]


def content_types_follow(apps, schema_editor, old="messaging_channels", new="webhooks"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        taken = ContentType.objects.using(db).filter(app_label=new, model=model).exists()
        moving = ContentType.objects.using(db).filter(app_label=old, model=model)
        if not taken:
            moving.update(app_label=new)


def content_types_back(apps, schema_editor):
    content_types_follow(apps, schema_editor, old="webhooks", new="messaging_channels")


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RenameIndex(
            model_name='webhookdelivery',
            new_name='webhooks_we_status_afd94b_idx',
            old_name='messaging_c_status_9f5ce1_idx',
        ),
        migrations.RenameIndex(
            model_name='webhookendpoint',
            new_name='webhooks_we_workspa_8bf980_idx',
            old_name='messaging_c_workspa_47a78f_idx',
        ),
        migrations.AlterModelTable(
            name='webhookattempt',
            table=None,
        ),
        migrations.AlterModelTable(
            name='webhookdelivery',
            table=None,
        ),
        migrations.AlterModelTable(
            name='webhookendpoint',
            table=None,
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
