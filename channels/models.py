from django.db import models
from django.db.models import Q

from core.models import TimestampedModel


class Channel(models.TextChoices):
    SMS = "SMS", "SMS"
    EMAIL = "Email", "Email"


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
