from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "messaging_channels"
    default_auto_field = "django.db.models.BigAutoField"
