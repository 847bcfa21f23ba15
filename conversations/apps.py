from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import inbound

        from conversations.edges.email import email_received

        inbound.connect(email_received, dispatch_uid="conversations.edges.email")
