from rest_framework import serializers

from channels.addresses import AddressError, normalize_address
from channels.models import Channel
from core.fields import CanonicalChoiceField, StrictBooleanField, StrictCharField
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
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

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
