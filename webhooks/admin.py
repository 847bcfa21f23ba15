"""Operators see every endpoint, delivery and attempt of their workspaces, and can
retry deliveries by hand. Deliveries and attempts are a log: read-only."""

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from core.errors import ApplicationError
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.signing import secret_generate
from workspaces.admin import (
    ReadOnlyAdminMixin,
    WorkspaceScopedAdmin,
    WorkspaceScopedTabularInline,
)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(WorkspaceScopedAdmin):
    list_display = ("url", "workspace", "enabled", "disabled_reason", "last_success_at")
    list_filter = ("enabled", "disabled_reason")
    search_fields = ("url", "description", "workspace__name")
    # The secrets are the consumer's: shown once, when the endpoint is created (here or
    # through the API), never again.
    exclude = ("secret", "previous_secret", "previous_secret_expires_at")
    readonly_fields = ("disabled_reason", "last_success_at", "failing_since", "created_at")
    # A URL typed without a scheme is taken as https (Django 6's default; silences 5.2's).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # As webhook_endpoint_create does for the API: a new signing secret, and an
        # endpoint created disabled says who disabled it.
        obj.secret = secret_generate()
        if not obj.enabled:
            obj.disabled_reason = WebhookEndpoint.DisabledReason.BY_CLIENT
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"Signing secret for {obj.url} (copy it now, it is not shown again): {obj.secret}",
            messages.WARNING,
        )


class WebhookAttemptInline(ReadOnlyAdminMixin, WorkspaceScopedTabularInline):
    model = WebhookAttempt
    fields = ("started_at", "status_code", "latency_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, WorkspaceScopedAdmin):
    workspace_field = "endpoint__workspace"
    list_display = ("id", "endpoint", "event", "status", "attempts", "next_attempt_at")
    list_filter = ("status",)
    search_fields = ("id", "endpoint__url")
    list_select_related = ("endpoint", "event")
    inlines = (WebhookAttemptInline,)
    actions = ("retry",)

    @admin.action(description="Retry selected deliveries")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        retried = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                services.webhook_delivery_retry(delivery=delivery)
                retried += 1
            except ApplicationError as exc:
                self.message_user(request, f"{delivery.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Retrying {retried} delivery(ies).")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdminMixin, WorkspaceScopedAdmin):
    workspace_field = "delivery__endpoint__workspace"
    list_display = ("started_at", "delivery", "status_code", "latency_ms", "error")
    list_filter = ("status_code",)
    list_select_related = ("delivery",)
