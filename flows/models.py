import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from config.models import TimestampedModel
from flows.validators import MAX_DELAY_SECONDS, validate_timezone_name


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"
    BIDIRECTIONAL = "bidirectional", "Bidirectional"


class Channel(models.TextChoices):
    SMS = "SMS", "SMS"
    EMAIL = "Email", "Email"


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

    reply_delay_seconds = models.PositiveIntegerField(
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
    out_of_hours_message = models.TextField(blank=True)

    hipaa_compliance = models.BooleanField("HIPAA compliance", default=False)

    email_subject_line = models.CharField(max_length=255, blank=True)
    email_signature = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The admin's form and the API's serializer both end here, so the rule that a
        # flow's agent belongs to the flow's workspace is written once.
        if self.agent_id and self.workspace_id and self.agent.workspace_id != self.workspace_id:
            raise ValidationError({"agent": "The agent belongs to another workspace."})
