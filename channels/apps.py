from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "messaging_channels"  # "channels" is a well-known package's name
    verbose_name = "Channels"
    default_auto_field = "django.db.models.BigAutoField"
