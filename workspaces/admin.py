from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_issue, api_key_revoke


class WorkspaceScopedAdmin(admin.ModelAdmin):
    """Operators see and edit only the workspaces they belong to; superusers see all."""

    workspace_field = "workspace"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.workspace_field}__operators": request.user})

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "workspace" and not request.user.is_superuser:
            kwargs["queryset"] = Workspace.objects.filter(operators=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    workspace_field = "id"
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    filter_horizontal = ("operators",)
    readonly_fields = ("id", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = admin.ModelAdmin.get_queryset(self, request)
        return queryset if request.user.is_superuser else queryset.filter(operators=request.user)


@admin.register(ApiKey)
class ApiKeyAdmin(WorkspaceScopedAdmin):
    list_display = ("__str__", "workspace", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scopes", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "workspace__name")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        if obj is None:
            return ["workspace", "name", "scopes"]
        return ["workspace", "name", "scopes", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple:
        # A key never moves to another workspace and its scope is fixed at issue.
        return (*self.readonly_fields, "workspace", "scopes") if obj else ()

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        raw_key = api_key_issue(api_key=obj)
        self.message_user(
            request,
            f"New API key (copy it now, it is not shown again): {raw_key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")
