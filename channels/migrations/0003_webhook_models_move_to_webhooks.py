# The outbound webhook models now belong to the webhooks app (its 0001 takes them over
# with their tables and rows): removed from this app's state only, nothing dropped.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('messaging_channels', '0002_webhooks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='WebhookAttempt'),
                migrations.DeleteModel(name='WebhookDelivery'),
                migrations.DeleteModel(name='WebhookEndpoint'),
            ],
        ),
    ]
