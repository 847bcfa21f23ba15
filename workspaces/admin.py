"""The admin's tenancy: an operator (a staff user in Workspace.operators) sees, and is
offered in every form, list filter and inline, only the rows of their own workspaces;
superusers see all. Every workspace-owned model is registered through
`WorkspaceScopedAdmin`, so a new relation is narrowed without anyone remembering to."""

from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.core import checks
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_issue, api_key_revoke


def operators_lookup(model: type[models.Model], depth: int = 3) -> str | None:
    """The lookup from `model` to the users who operate its rows' workspace: `operators`
    for Workspace, `workspace__operators` for a model with a `workspace`, through required
    foreign keys for a model owned by way of another (a webhook delivery by its
    endpoint); None for models outside any workspace (users, beat schedules)."""
    if model is Workspace:
        return "operators"
    fields = model._meta.concrete_fields
    if any(field.name == "workspace" for field in fields):
        return "workspace__operators"
    for field in fields if depth > 1 else ():
        if field.many_to_one and not field.null:
            through = operators_lookup(field.related_model, depth - 1)
            if through:
                return f"{field.name}__{through}"
    return None


def scope_to_operator(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """`queryset` narrowed to the rows of the workspaces the user operates."""
    lookup = operators_lookup(queryset.model)
    if request.user.is_superuser or lookup is None:
        return queryset
    return queryset.filter(**{lookup: request.user})


class WorkspaceRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A relation's list filter that offers an operator only their workspaces' rows."""

    def field_choices(self, field, request: HttpRequest, model_admin) -> list:
        lookup = operators_lookup(field.related_model)
        if request.user.is_superuser or lookup is None:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, limit_choices_to={lookup: request.user}, ordering=ordering
        )


class ScopedRelationsMixin:
    """Every foreign key and many-to-many form field (select, raw id or autocomplete)
    offers, and so accepts, only the rows of the operator's workspaces. For admins and
    inlines alike; clean() still refuses a link between two workspaces (for superusers
    and operators of several workspaces)."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        return _narrowed(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        return _narrowed(super().formfield_for_manytomany(db_field, request, **kwargs), request)


def _narrowed(formfield, request: HttpRequest):
    if formfield is not None and getattr(formfield, "queryset", None) is not None:
        formfield.queryset = scope_to_operator(formfield.queryset, request)
    return formfield


class WorkspaceScopedTabularInline(ScopedRelationsMixin, admin.TabularInline):
    pass


class WorkspaceScopedAdmin(ScopedRelationsMixin, admin.ModelAdmin):
    """Operators see and edit only the workspaces they belong to; superusers see all.

    Also narrows every relation of the forms (ScopedRelationsMixin) and of the list
    filters. Its system check refuses an inline that does not narrow its relations, and
    a relation whose target is registered with an admin that does not scope its rows
    (raw-id pop-ups and autocomplete list the target admin's rows)."""

    workspace_field = "workspace"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.workspace_field}__operators": request.user})

    def get_list_filter(self, request: HttpRequest) -> list:
        return [self._scoped_filter(item) for item in super().get_list_filter(request)]

    def _scoped_filter(self, item: object) -> object:
        if isinstance(item, str) and get_fields_from_path(self.model, item)[-1].is_relation:
            return (item, WorkspaceRelatedFieldListFilter)
        if isinstance(item, tuple) and item[1] is admin.RelatedFieldListFilter:
            return (item[0], WorkspaceRelatedFieldListFilter)
        return item

    def check(self, **kwargs) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        for inline in self.inlines:
            if not issubclass(inline, ScopedRelationsMixin):
                errors.append(
                    checks.Error(
                        f"The inline {inline.__name__} must narrow its relations to the "
                        "operator's workspaces: base it on WorkspaceScopedTabularInline.",
                        obj=self.__class__,
                        id="workspaces.E001",
                    )
                )
        for field in self.model._meta.get_fields():
            target = field.related_model if not field.auto_created else None
            if (
                target is not None
                and operators_lookup(target) is not None
                and self.admin_site.is_registered(target)
                and not isinstance(self.admin_site.get_model_admin(target), WorkspaceScopedAdmin)
            ):
                errors.append(
                    checks.Error(
                        f"{target.__name__} is owned by a workspace: register it with a "
                        "WorkspaceScopedAdmin, whose rows raw-id pop-ups and autocomplete "
                        f"list for {self.model.__name__}.{field.name}.",
                        obj=self.__class__,
                        id="workspaces.E002",
                    )
                )
        return errors


class ReadOnlyAdminMixin:
    """Immutable records (messages, events, webhook deliveries and attempts): read in the
    admin, never added or edited there. For admins and inlines alike."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(WorkspaceScopedAdmin):
    list_display = ("name", "id", "created_at")
    search_fields = ("name", "id")
    filter_horizontal = ("operators",)
    readonly_fields = ("id", "created_at", "updated_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_to_operator(admin.ModelAdmin.get_queryset(self, request), request)

    def get_exclude(self, request: HttpRequest, obj: Workspace | None = None) -> tuple:
        # Who operates a workspace is the superusers' decision, not the operators'.
        exclude = tuple(super().get_exclude(request, obj) or ())
        return exclude if request.user.is_superuser else (*exclude, "operators")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Workspace | None = None) -> bool:
        return request.user.is_superuser


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

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet) -> None:
        for api_key in queryset:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")


def operated_workspace_ids(user: object) -> list | None:
    """The ids of the workspaces the user operates; None for a superuser (every one).
    The operator console's pages, which are not a model's admin, scope with this."""
    if user.is_superuser:
        return None
    return list(Workspace.objects.filter(operators=user).values_list("pk", flat=True))
