from datetime import datetime

from django.db import models
from django.db.models import Q

from core.crypto import decrypt_text
from core.models import TimestampedModel, optional_link
from core.sealed import SealedJSONField, SealedTextField
from core.tenancy import validate_same_workspace


class Contact(TimestampedModel):
    """A customer, by normalised address: E.164 for SMS, lower-cased email for Email.

    Once a HIPAA flow reaches the contact, its name and metadata are encrypted at rest;
    the address stays in clear: inbound messages and sends are routed by it."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="contacts"
    )
    channel = models.CharField(max_length=8)
    address = models.CharField(max_length=320)
    name = SealedTextField(blank=True, seal_when="hipaa")
    metadata = SealedJSONField(default=dict, blank=True, seal_when="hipaa")
    hipaa = models.BooleanField(
        default=False,
        help_text="Reached by a HIPAA flow: name and metadata are encrypted at rest.",
    )
    opted_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "address"], name="contact_unique_address"
            )
        ]

    def __str__(self) -> str:
        # Never a HIPAA contact's name: this string is kept in the admin's history.
        return self.address if self.hipaa else (self.name or self.address)

    def clean(self) -> None:
        validate_same_workspace(self)


class Conversation(TimestampedModel):
    """A conversation with its state (seed 002): playbook, phase, systemMessage, context.

    `reply_due_at` marks a reply that is owed (set with the message that asked for it,
    in the same transaction), so a reply whose task was lost is found by the sweep.
    `reply_started_at` is the generation lock: set by one conditional UPDATE, cleared
    when the reply is stored; older than the generation timeout, it is stale.
    """

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="conversations"
    )
    flow = optional_link("flows.MessageFlow", related_name="conversations")
    agent = optional_link("agents.Agent", related_name="conversations")
    contact = optional_link(Contact, related_name="conversations")
    channel = models.CharField(max_length=8, blank=True)
    playbook = models.TextField(blank=True)
    phase = models.CharField(max_length=200, blank=True)
    system_message = models.TextField(blank=True)
    context = SealedJSONField(default=dict, blank=True, seal_when="hipaa")
    hipaa = models.BooleanField(
        default=False,
        help_text="Message text, metadata and context are encrypted at rest (from the flow).",
    )
    ai_paused = models.BooleanField(default=False)
    ai_paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Empty while paused: until resumed by hand."
    )
    out_of_hours_sent_at = models.DateTimeField(null=True, blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True)
    reply_started_at = models.DateTimeField(null=True, blank=True)
    last_reply_error = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # An operator trying a flow in the admin ("Try it"): never sent to any channel, left
    # out of the inbox and the dashboard.
    is_sandbox = models.BooleanField(default=False)
    # Kept by every insert of a message (services._touch_statement, the bulk path in
    # outbound): the API shows it on every conversation without counting rows.
    message_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(
                fields=["reply_due_at"],
                name="conversation_reply_due",
                condition=Q(reply_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"

    def clean(self) -> None:
        validate_same_workspace(self)

    def ai_paused_now(self, now: datetime) -> bool:
        """Paused by a person's takeover, unless the flow's takeover timeout ran out."""
        return self.ai_paused and (self.ai_paused_until is None or self.ai_paused_until > now)


class Role(models.TextChoices):
    USER = "user", "User"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"
    CONTROL = "control", "Control"


class DeliveryStatus(models.TextChoices):
    NONE = "none", "Not for delivery"
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    UNDELIVERED = "undelivered", "Undelivered"
    CANCELED = "canceled", "Canceled"
    RECEIVED = "received", "Received"


class Message(TimestampedModel):
    """Immutable content (role, sender, text, metadata, reply-to) plus a delivery life
    cycle. Text of HIPAA conversations is stored encrypted; read it through `.content`.
    Their metadata is encrypted too (and read in clear), except the ids the operator
    console looks messages up by (ID_KEYS)."""

    # Metadata keys whose id values stay in clear: operator_actions.RETRY_OF and REPLACES,
    # delivery.BULK_KEY (the inbox counts retries in SQL).
    ID_KEYS = ("retry_of", "replaces", "campaign_id")

    # Indexed with created_at below, not alone: every index is written by every insert.
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, db_index=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    role = models.CharField(max_length=8, choices=Role.choices)
    sender_id = models.CharField(max_length=200, blank=True)
    sender_type = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    metadata = SealedJSONField(
        default=dict, blank=True, seal_when="conversation.hipaa", plain_keys=ID_KEYS
    )
    reply_to = optional_link("self", related_name="replies", db_index=False)
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE
    )
    send_at = models.DateTimeField(null=True, blank=True)
    # Set by the sweep or the scheduling service when a send task is (re)enqueued, so
    # the sweep does not enqueue the same due message again while that task is pending.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    llm_model = models.CharField(max_length=100, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A provider's id names one message: a repeated inbound webhook stores nothing.
            models.UniqueConstraint(
                fields=["workspace", "provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="message_provider_id_unique",
            )
        ]
        indexes = [
            # A conversation's messages in order, a page at a time (keyset over both).
            models.Index(fields=["conversation", "created_at", "id"], name="message_transcript"),
            # GET /v1/messages: the workspace's newest first.
            models.Index(fields=["workspace", "-created_at"], name="message_workspace_newest"),
            models.Index(
                fields=["send_at"],
                name="message_due",
                condition=Q(status="scheduled"),
            ),
            # Status callbacks find a sent message by Twilio's id. Partial: most messages
            # (received through the API, drafts) have none and cost this index nothing.
            models.Index(
                fields=["provider_message_id"],
                name="message_provider_id",
                condition=~Q(provider_message_id=""),
            ),
            models.Index(
                fields=["reply_to"], name="message_reply_to", condition=Q(reply_to__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role} message {self.pk}"

    def clean(self) -> None:
        validate_same_workspace(self)

    @property
    def content(self) -> str:
        return decrypt_text(self.text)


class Event(models.Model):
    """Append-only log, ordered per workspace by `sequence`. Inserted without one; the
    sequencer numbers committed events before anyone reads them (conversations.events),
    so sequence order is the order in which events became visible."""

    id = models.BigAutoField(primary_key=True)
    # Indexed as the first column of event_sequence, not alone.
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, db_index=False)
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    type = models.CharField(max_length=64)
    conversation_id = models.UUIDField(null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "sequence"], name="event_sequence")
        ]
        indexes = [
            models.Index(fields=["workspace", "type", "sequence"]),
            # What the sequencer has yet to number: a handful of rows at any time.
            models.Index(
                fields=["workspace", "id"],
                name="event_unsequenced",
                condition=Q(sequence__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence}"
