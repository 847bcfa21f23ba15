from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "messaging_channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import inbound

        from channels.inbound_email import email_received

        inbound.connect(email_received, dispatch_uid="channels.inbound_email")
