"""Outbound webhooks: the endpoints a workspace registers, one delivery per (endpoint,
event), and every attempt at it. The logic lives in channels.webhooks_out."""

from django.core.exceptions import ValidationError
from django.db import models

from core.models import TimestampedModel
from core.sealed import SealedTextField


class WebhookEndpoint(TimestampedModel):
    class DisabledReason(models.TextChoices):
        NONE = "", "Not disabled"
        BY_CLIENT = "client", "Disabled by the client"
        GONE = "gone", "The endpoint answered 410 Gone"
        FAILING = "failing", "Failing without a success for 5 days"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=2048)
    # Event types to receive; empty means every type.
    event_types = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    description = models.CharField(max_length=500, blank=True)
    # Encrypted at rest (read back in clear to sign deliveries).
    secret = SealedTextField(seal_when=True)
    # During a rotation deliveries are signed with both secrets until this expires.
    previous_secret = SealedTextField(blank=True, seal_when=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason.choices, blank=True, default=""
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Set at the first failure after a success (or ever); cleared by a success.
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "enabled"])]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TimestampedModel):
    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        "conversations.Event", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's lease on the delivery while it POSTs; a lapsed lease (dead worker) lets
    # the sweep hand the delivery to another.
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"

    def clean(self) -> None:
        # No `workspace` of its own for core.tenancy to compare: the endpoint's must be
        # the event's.
        if (
            self.endpoint_id
            and self.event_id
            and self.endpoint.workspace_id != self.event.workspace_id
        ):
            raise ValidationError({"event": "The event belongs to another workspace."})


class WebhookAttempt(TimestampedModel):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, help_text="The first 1 KB of the answer.")
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.started_at:%Y-%m-%d %H:%M:%S}"
