import hashlib

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from core.models import TimestampedModel, optional_link
from core.tenancy import validate_same_workspace


class Workspace(TimestampedModel):
    """A business using the service; every other resource belongs to exactly one."""

    name = models.CharField(max_length=200)
    operators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="workspaces",
        help_text="Staff users who may see and edit this workspace in the admin.",
    )
    help_text = models.TextField(
        blank=True, help_text="Answer to HELP by SMS; empty: the SMS_HELP_MESSAGE setting."
    )
    default_flow = optional_link(
        "flows.MessageFlow",
        related_name="+",
        help_text="Used by POST /v1/messages when it opens a conversation without flow_id.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The default flow must be one of this workspace's flows.
        validate_same_workspace(self)


class ApiKey(TimestampedModel):
    """An API key: `sk_<prefix>_<secret>`. Only the SHA-256 of the whole key is stored;
    the prefix is kept in clear to find the row and to tell keys apart in the admin."""

    class Scopes(models.TextChoices):
        READ_WRITE = "read write", "Read and write"
        READ = "read", "Read only"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.CharField(max_length=32, choices=Scopes.choices, default=Scopes.READ_WRITE)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"sk_{self.prefix}_… ({self.name or self.workspace.name})"

    @staticmethod
    def hash_secret(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.split()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an `Idempotency-Key`, replayed for 24 hours.
    `status_code` is null while the first request is still in flight."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
