# The outbound webhook models move from the channels app to their own app. Their tables
# and rows stay where they are: this migration only tells Django's state that the
# models now belong here (the tables are renamed in 0002).

import core.ids
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('conversations', '0004_message_message_provider_id_unique'),
        ('messaging_channels', '0003_webhook_models_move_to_webhooks'),
        ('workspaces', '0003_workspace_help_text'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='WebhookDelivery',
                    fields=[
                        ('id', models.UUIDField(default=core.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=16)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('claimed_until', models.DateTimeField(blank=True, null=True)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('event', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_deliveries', to='conversations.event')),
                    ],
                    options={
                        'db_table': 'messaging_channels_webhookdelivery',
                        'verbose_name_plural': 'webhook deliveries',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookAttempt',
                    fields=[
                        ('id', models.UUIDField(default=core.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('started_at', models.DateTimeField()),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('latency_ms', models.PositiveIntegerField(default=0)),
                        ('response_body', models.TextField(blank=True, help_text='The first 1 KB of the answer.')),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempt_log', to='webhooks.webhookdelivery')),
                    ],
                    options={
                        'db_table': 'messaging_channels_webhookattempt',
                        'ordering': ['-started_at'],
                    },
                ),
                migrations.CreateModel(
                    name='WebhookEndpoint',
                    fields=[
                        ('id', models.UUIDField(default=core.ids.uuid7, editable=False, primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('url', models.URLField(max_length=2048)),
                        ('event_types', models.JSONField(blank=True, default=list)),
                        ('enabled', models.BooleanField(default=True)),
                        ('description', models.CharField(blank=True, max_length=500)),
                        ('secret', models.CharField(max_length=128)),
                        ('previous_secret', models.CharField(blank=True, max_length=128)),
                        ('previous_secret_expires_at', models.DateTimeField(blank=True, null=True)),
                        ('disabled_reason', models.CharField(blank=True, choices=[('', 'Not disabled'), ('client', 'Disabled by the client'), ('gone', 'The endpoint answered 410 Gone'), ('failing', 'Failing without a success for 5 days')], default='', max_length=16)),
                        ('last_success_at', models.DateTimeField(blank=True, null=True)),
                        ('failing_since', models.DateTimeField(blank=True, null=True)),
                        ('workspace', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhook_endpoints', to='workspaces.workspace')),
                    ],
                    options={
                        'db_table': 'messaging_channels_webhookendpoint',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.AddField(
                    model_name='webhookdelivery',
                    name='endpoint',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookendpoint'),
                ),
                migrations.AddIndex(
                    model_name='webhookendpoint',
                    index=models.Index(fields=['workspace', 'enabled'], name='messaging_c_workspa_47a78f_idx'),
                ),
                migrations.AddIndex(
                    model_name='webhookdelivery',
                    index=models.Index(fields=['status', 'next_attempt_at'], name='messaging_c_status_9f5ce1_idx'),
                ),
                migrations.AddConstraint(
                    model_name='webhookdelivery',
                    constraint=models.UniqueConstraint(fields=('endpoint', 'event'), name='webhook_delivery_once'),
                ),
    
            ],
        ),
    ]
