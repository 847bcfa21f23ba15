from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import TimestampedModel


class Channel(models.TextChoices):
    SMS = "SMS", "SMS"
    EMAIL = "Email", "Email"


# The range a sender's throughput may be set to.
MIN_PER_SECOND = 0.1
MAX_PER_SECOND = 1000.0


class Sender(TimestampedModel):
    """A workspace's phone number (or Twilio Messaging Service) or email from-address.

    Inbound traffic is routed by the address it was sent to, so an address belongs to
    one workspace at most (unique per channel across all workspaces)."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="senders"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    address = models.CharField(max_length=320, help_text="E.164 number or email address.")
    messaging_service_sid = models.CharField(max_length=64, blank=True)
    is_default = models.BooleanField(default=False)
    max_per_second = models.FloatField(
        "max messages per second",
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_PER_SECOND), MaxValueValidator(MAX_PER_SECOND)],
        help_text=(
            "Sends per second across every worker. Empty: by kind (long code 1, toll-free "
            "3, short code 100, email EMAIL_MAX_PER_SECOND)."
        ),
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "address"], name="sender_address_unique"),
            models.UniqueConstraint(
                fields=["workspace", "channel"],
                condition=Q(is_default=True),
                name="sender_one_default_per_channel",
            ),
        ]

    def __str__(self) -> str:
        return self.address


class SenderThrottle(models.Model):
    """A sender's pacing state when Redis is down (channels.throttle's fallback): the
    same three instants the Redis hash holds, as Unix times, under a row lock."""

    key = models.CharField(max_length=400, primary_key=True)
    tat = models.FloatField(default=0.0, help_text="The next free send slot.")
    plan = models.FloatField(default=0.0, help_text="Where the next bulk send is planned.")
    queue = models.FloatField(default=0.0, help_text="The end of the deferred bulk sends.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
