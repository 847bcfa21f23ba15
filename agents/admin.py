from django.contrib import admin

from agents.models import Agent
from workspaces.admin import WorkspaceScopedAdmin


@admin.register(Agent)
class AgentAdmin(WorkspaceScopedAdmin):
    list_display = ("name", "workspace", "model", "temperature", "max_tokens", "updated_at")
    list_filter = ("model",)
    search_fields = ("name", "instructions", "workspace__name")
    readonly_fields = ("id", "created_at", "updated_at")
