from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from flows.models import MessageFlow
from flows.services import flow_duplicate, flows_set_active
from workspaces.admin import WorkspaceScopedAdmin


@admin.register(MessageFlow)
class MessageFlowAdmin(WorkspaceScopedAdmin):
    list_display = (
        "name",
        "workspace",
        "message_channel",
        "direction",
        "is_active",
        "autopilot",
        "agent",
        "updated_at",
    )
    list_filter = (
        "is_active",
        "autopilot",
        "message_channel",
        "direction",
        "hipaa_compliance",
        "agent",
        "workspace",
    )
    search_fields = ("name", "description", "prompt", "workspace__name")
    readonly_fields = ("id", "created_at", "updated_at")
    actions = ("activate", "deactivate", "duplicate")
    fieldsets = (
        (
            "General",
            {
                "fields": (
                    "id",
                    "workspace",
                    "name",
                    "description",
                    "direction",
                    "message_channel",
                    "is_active",
                    "autopilot",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        ("Agent and prompt", {"fields": ("agent", "prompt", "initiation_message")}),
        ("Delivery", {"fields": ("sender", "human_takeover_minutes")}),
        (
            "Timing and working hours",
            {
                "fields": (
                    "reply_delay_seconds",
                    "working_hours_enabled",
                    ("working_hours_start", "working_hours_end"),
                    "working_hours_timezone",
                    "working_hours_days",
                    "out_of_hours_message",
                )
            },
        ),
        ("Email", {"fields": ("email_subject_line", "email_signature")}),
        ("Security", {"fields": ("hipaa_compliance",)}),
    )

    @admin.action(description="Activate selected flows", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=True)

    @admin.action(description="Deactivate selected flows", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet, *, active: bool) -> None:
        changed = 0
        for workspace_id in queryset.values_list("workspace_id", flat=True).distinct():
            ids = list(queryset.filter(workspace_id=workspace_id).values_list("pk", flat=True))
            changed += flows_set_active(workspace_id=workspace_id, flow_ids=ids, active=active)
        self.message_user(request, f"{'Activated' if active else 'Deactivated'} {changed} flow(s).")

    @admin.action(
        description="Duplicate selected flows (copies start inactive)", permissions=["add"]
    )
    def duplicate(self, request: HttpRequest, queryset: QuerySet) -> None:
        copies = [flow_duplicate(flow=flow) for flow in queryset.select_related("workspace")]
        self.message_user(request, f"Created {len(copies)} inactive cop(ies).")
