from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import Campaign, CampaignRecipient
from campaigns.selectors import OUTCOMES, counts_for_api, recipient_outcome
from core.fields import StrictBooleanField, StrictCharField
from core.serializers import StrictSerializer


class SkippedCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    optedOut = serializers.IntegerField(help_text="The contact opted out of the channel.")
    duplicate = serializers.IntegerField(help_text="An earlier row has the same address.")
    invalidAddress = serializers.IntegerField(help_text="`to` does not fit the flow's channel.")
    invalidData = serializers.IntegerField(
        help_text="A malformed row, a dynamic value the message cannot use, an unknown zone."
    )


class CampaignCountsSerializer(serializers.Serializer):
    """Every recipient once, in its current outcome; they add up to `total`."""

    total = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Not yet turned into a message.")
    draft = serializers.IntegerField(help_text="Waiting for approval (autopilot off).")
    scheduled = serializers.IntegerField(help_text="Waiting to leave (or held by a pause).")
    sent = serializers.IntegerField(help_text="Taken by the provider.")
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Failed or undelivered.")
    canceled = serializers.IntegerField()
    skipped = SkippedCountsSerializer()


class CampaignSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    workspaceId = serializers.UUIDField(source="workspace_id")
    name = serializers.CharField()
    flowId = serializers.UUIDField(source="flow_id", allow_null=True)
    status = serializers.ChoiceField(choices=Campaign.Status.choices)
    statusReason = serializers.CharField(
        source="status_reason", help_text="Why it paused by itself (e.g. the flow was deactivated)."
    )
    autopilot = serializers.BooleanField()
    sendAt = serializers.DateTimeField(source="send_at")
    source = serializers.ChoiceField(choices=Campaign.Source.choices)
    counts = serializers.SerializerMethodField()
    startedAt = serializers.DateTimeField(source="started_at", allow_null=True)
    pausedAt = serializers.DateTimeField(source="paused_at", allow_null=True)
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)
    canceledAt = serializers.DateTimeField(source="canceled_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    @extend_schema_field(CampaignCountsSerializer)
    def get_counts(self, campaign: Campaign) -> dict:
        return counts_for_api(self.context["counts"][campaign.pk])


class RecipientCustomerDetailsSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    timezone = serializers.CharField(
        required=False,
        help_text="IANA zone; with the flow's `recipientLocalTime`, its hours are this zone's.",
    )


class RecipientMetadataSerializer(serializers.Serializer):
    customerDetails = RecipientCustomerDetailsSerializer(required=False)


class RecipientInputSerializer(serializers.Serializer):
    """The per-recipient fields of `POST /v1/api/conversations/message/generate`."""

    to = serializers.CharField(help_text="E.164 for an SMS flow, an email address for Email.")
    metadata = RecipientMetadataSerializer(required=False)
    dynamic = serializers.DictField(required=False, help_text="The flow's dynamic inputs.")


@extend_schema_field(RecipientInputSerializer(many=True))
class RecipientsField(serializers.Field):
    """The list as given: only that it is a list is checked here; each row is checked
    on its own (a bad row is skipped with its reason, the others are kept)."""

    default_error_messages = {"invalid": "Must be a list of recipients."}

    def to_internal_value(self, data: object) -> list:
        if not isinstance(data, list):
            self.fail("invalid")
        return data

    def to_representation(self, value: list) -> list:
        return value


class CampaignCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    flowId = StrictCharField()
    recipients = RecipientsField()
    sendAt = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When to start; default now."
    )
    autopilot = StrictBooleanField(
        required=False, default=False, help_text="False: every message waits as a draft."
    )


class CampaignUploadSerializer(StrictSerializer):
    """multipart/form-data: the list as a CSV file."""

    name = serializers.CharField(max_length=200)
    flowId = serializers.CharField()
    file = serializers.FileField(
        help_text=(
            "UTF-8 CSV with a header row: `to` (required), `name`, `timezone`, "
            "`customer.<key>`, `dynamic.<key>`."
        )
    )
    sendAt = serializers.DateTimeField(required=False, help_text="When to start; default now.")
    autopilot = serializers.BooleanField(required=False, default=False)


class CampaignRecipientSerializer(serializers.Serializer):
    row = serializers.IntegerField(source="position", help_text="The row in the list, from 1.")
    to = serializers.CharField()
    name = serializers.CharField()
    outcome = serializers.SerializerMethodField()
    skipReason = serializers.ChoiceField(
        source="skip_reason",
        choices=[*CampaignRecipient.SkipReason.values, ""],
        help_text="Why it was skipped; empty otherwise.",
    )
    error = serializers.CharField()
    conversationId = serializers.UUIDField(source="conversation_id", allow_null=True)
    messageId = serializers.UUIDField(source="message_id", allow_null=True)
    sendAt = serializers.DateTimeField(source="message.send_at", allow_null=True, default=None)
    sentAt = serializers.DateTimeField(source="message.sent_at", allow_null=True, default=None)

    @extend_schema_field(serializers.ChoiceField(choices=OUTCOMES))
    def get_outcome(self, row: CampaignRecipient) -> str:
        return recipient_outcome(
            state=row.state,
            held=row.held,
            message_status=row.message.status if row.message_id and row.message else None,
        )


class RecipientFilterSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=OUTCOMES, required=False)
