"""Campaigns: one flow's opening message to a list of recipients, each becoming a seed
000 conversation and message, created in batches by the workers, sent inside each
sender's throughput and each recipient's hours, with counts as they go."""

from django.db import models

from core.models import TimestampedModel, optional_link
from core.sealed import SealedJSONField, SealedTextField
from core.tenancy import validate_same_workspace


class Campaign(TimestampedModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELED = "canceled", "Canceled"

    class Source(models.TextChoices):
        JSON = "json", "JSON"
        CSV = "csv", "CSV upload"

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(max_length=200)
    flow = optional_link("flows.MessageFlow", related_name="campaigns")
    autopilot = models.BooleanField(
        default=False, help_text="Send without review; off: every message waits as a draft."
    )
    send_at = models.DateTimeField(help_text="When the campaign starts.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.JSON)
    total = models.PositiveIntegerField(default=0)
    # The rows' check (addresses, duplicates) before any message: done, or being done
    # since (a lease: a worker that died leaves it to the tick after a while).
    prepared_at = models.DateTimeField(null=True, blank=True)
    preparing_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    # When batches were last handed to the workers; the tick hands them again when
    # recipients still wait and nothing moved for a while (a lost task).
    batches_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="As last reported.")
    progress_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["status", "send_at"]),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        validate_same_workspace(self)


class CampaignRecipient(models.Model):
    """One row of a campaign's list, as given, and what became of it."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CREATED = "created", "Message created"
        SKIPPED = "skipped", "Skipped"
        CANCELED = "canceled", "Canceled before its message"

    class SkipReason(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        DUPLICATE = "duplicate", "Duplicate in the list"
        INVALID_ADDRESS = "invalid_address", "Invalid address"
        INVALID_DATA = "invalid_data", "Invalid data"

    id = models.BigAutoField(primary_key=True)
    # No foreign-key constraints in the database for these two (checking 50,000 rows at
    # commit would double the time a big upload takes; rows go only with their campaign,
    # by Django's cascade, and only campaign_create writes them), and no index of their
    # own: the unique (campaign, position) serves every query by campaign.
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="recipients",
        db_constraint=False,
        db_index=False,
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    position = models.PositiveIntegerField(help_text="The row in the list, from 1.")
    to = models.CharField(max_length=320, blank=True, help_text="As given.")
    # Encrypted at rest for a HIPAA flow's campaign (campaigns.services seals them as
    # it writes the rows); `to` stays in clear, as every address.
    name = SealedTextField(blank=True)
    customer_details = SealedJSONField(default=dict, blank=True)
    dynamic = SealedJSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    error = models.TextField(blank=True)
    held = models.BooleanField(
        default=False, help_text="Its message waits as a draft while the campaign is paused."
    )
    conversation = optional_link("conversations.Conversation", related_name="+")
    message = optional_link("conversations.Message", related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="campaign_row_unique")
        ]

    def __str__(self) -> str:
        return f"Row {self.position}: {self.to}"

    def clean(self) -> None:
        validate_same_workspace(self)
