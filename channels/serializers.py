from rest_framework import serializers

from channels.addresses import AddressError, normalize_address
from channels.models import MAX_PER_SECOND, MIN_PER_SECOND, Channel, Sender
from channels.throttle import sender_max_per_second
from core.fields import (
    CanonicalChoiceField,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
)
from core.serializers import StrictSerializer


class SenderSerializer(StrictSerializer):
    _id = serializers.UUIDField(source="id", read_only=True)
    workspaceId = serializers.UUIDField(source="workspace_id", read_only=True)
    channel = CanonicalChoiceField(Channel)
    address = StrictCharField(max_length=320)
    messagingServiceSid = StrictCharField(
        source="messaging_service_sid", required=False, allow_blank=True, max_length=64
    )
    isDefault = StrictBooleanField(source="is_default", required=False)
    maxPerSecond = StrictFloatField(
        source="max_per_second",
        required=False,
        allow_null=True,
        min_value=MIN_PER_SECOND,
        max_value=MAX_PER_SECOND,
        help_text=(
            "Sends per second across every worker. Answered as in force: when never set "
            "(or set to null), by kind: long code 1, toll-free 3, short code 100, email "
            "EMAIL_MAX_PER_SECOND. Twilio's limit for the number is what to set here."
        ),
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def to_representation(self, sender: Sender) -> dict:
        data = super().to_representation(sender)
        data["maxPerSecond"] = sender_max_per_second(sender)
        return data

    def validate(self, data: dict) -> dict:
        channel = data.get("channel") or getattr(self.instance, "channel", None)
        if "address" in data or "channel" in data:
            address = data.get("address", getattr(self.instance, "address", ""))
            try:
                data["address"] = normalize_address(channel, address)
            except AddressError as exc:
                raise serializers.ValidationError({"address": [f"For {channel}, {exc}."]}) from None
        sid = data.get("messaging_service_sid", "")
        if sid and channel != Channel.SMS:
            raise serializers.ValidationError(
                {"messagingServiceSid": ["Only SMS senders have a Messaging Service."]}
            )
        if sid and not (sid.startswith("MG") and len(sid) == 34):
            raise serializers.ValidationError(
                {"messagingServiceSid": ["Must be a Twilio Messaging Service SID (MG…, 34 chars)."]}
            )
        return data
