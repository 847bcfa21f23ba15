import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from channels.models import Channel
from core.models import TimestampedModel, optional_link
from core.tenancy import validate_same_workspace
from flows.validators import MAX_DELAY_SECONDS, validate_days, validate_timezone_name
from flows.working_hours import WorkingHours


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    BIDIRECTIONAL = "bidirectional", "Bidirectional"


class MessageFlow(TimestampedModel):
    """Which agent talks, on which channel, with which prompt and opening message, and
    when it may speak (reply delay and working hours). Seed 003's resource."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="flows"
    )
    name = models.CharField(max_length=200)
    direction = models.CharField(max_length=16, choices=Direction.choices)
    description = models.TextField(blank=True)
    # PROTECT: deleting an agent that flows still use is refused (the API answers 409).
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="flows")
    prompt = models.TextField()
    initiation_message = models.TextField()
    is_active = models.BooleanField(default=False, help_text="The flow may be used at all.")
    autopilot = models.BooleanField(
        default=False, help_text="Send without an operator's review by default."
    )
    message_channel = models.CharField(max_length=8, choices=Channel.choices)

    # Seed 003's `delay` is a number: fractional seconds are kept as given.
    reply_delay_seconds = models.FloatField(
        "reply delay (seconds)",
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_DELAY_SECONDS)],
    )
    working_hours_enabled = models.BooleanField(default=False)
    working_hours_start = models.TimeField(default=datetime.time(9, 0))
    working_hours_end = models.TimeField(default=datetime.time(17, 0))
    working_hours_timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone_name]
    )
    working_hours_days = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_days],
        help_text="ISO weekdays the window opens on (1 = Monday … 7 = Sunday); empty: every day.",
    )
    working_hours_recipient_local = models.BooleanField(
        "working hours in the recipient's local time",
        default=False,
        help_text=(
            "The window applies in each recipient's own zone (given for the customer, else "
            "the phone number's, else the flow's zone)."
        ),
    )
    out_of_hours_message = models.TextField(blank=True)
    sender = optional_link(
        "messaging_channels.Sender",
        related_name="flows",
        help_text="Empty: the workspace's default sender for the channel.",
    )

    hipaa_compliance = models.BooleanField("HIPAA compliance", default=False)
    human_takeover_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="After a person answers, the AI stays paused this long; empty: until resumed.",
    )

    email_subject_line = models.CharField(max_length=255, blank=True)
    email_signature = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def working_hours(self) -> WorkingHours:
        return WorkingHours(
            enabled=self.working_hours_enabled,
            start=self.working_hours_start,
            end=self.working_hours_end,
            timezone=self.working_hours_timezone,
            days=frozenset(self.working_hours_days) if self.working_hours_days else None,
        )

    def clean(self) -> None:
        # The agent and the sender are this workspace's (services check the same before
        # they save, so the API refuses it too).
        validate_same_workspace(self)
        if self.sender_id and self.sender.channel != self.message_channel:
            raise ValidationError({"sender": "The sender's channel is not the flow's channel."})
