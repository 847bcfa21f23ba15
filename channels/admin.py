from django.contrib import admin

from channels.models import Sender
from workspaces.admin import WorkspaceScopedAdmin


@admin.register(Sender)
class SenderAdmin(WorkspaceScopedAdmin):
    list_display = ("address", "channel", "workspace", "messaging_service_sid", "is_default")
    list_filter = ("channel", "is_default")
    search_fields = ("address", "workspace__name")
