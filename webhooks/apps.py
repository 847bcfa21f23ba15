from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from conversations.events import events_committed
        from core import prefetch
        from webhooks.services import has_endpoint_key, webhooks_events_committed

        events_committed.connect(
            webhooks_events_committed, dispatch_uid="webhooks.events_committed"
        )
        prefetch.read_with_rate_limit(has_endpoint_key)
