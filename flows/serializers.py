"""Seed 003's message-flow shape.

The nested serializers use `source="*"`, so on input DRF flattens them into the model's
fields and on output it builds the seed's nesting from the one row. Working hours may
be given flat in `responseSettings` (the seed's request table) or nested as
`responseSettings.workingHours` (its response); the answer is always nested.
"""

import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.models import Agent
from channels.models import Channel, Sender
from core.fields import (
    CanonicalChoiceField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    WorkspaceRelatedField,
)
from core.serializers import StrictSerializer
from flows import placeholders, working_hours
from flows.models import Direction
from flows.validators import MAX_DELAY_SECONDS, parse_days, validate_timezone_name


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"})
class HHMMField(serializers.Field):
    default_error_messages = {"invalid": "Must be a 24-hour time in HH:MM format, e.g. '09:00'."}

    def to_internal_value(self, data: object) -> datetime.time:
        try:
            return working_hours.parse_hhmm(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: datetime.time) -> str:
        return value.strftime("%H:%M")


class DaysField(serializers.ListField):
    """ISO weekdays, 1 = Monday … 7 = Sunday, or names ("mon" … "sun")."""

    child = serializers.JSONField()

    def to_internal_value(self, data: object) -> list[int] | None:
        try:
            return parse_days(data)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


WORKING_HOURS_KEYS = (
    "enabled",
    "start",
    "end",
    "timezone",
    "outOfHoursMessage",
    "days",
    "recipientLocalTime",
)


class WorkingHoursSerializer(StrictSerializer):
    enabled = StrictBooleanField(source="working_hours_enabled", required=False)
    start = HHMMField(source="working_hours_start", required=False)
    end = HHMMField(source="working_hours_end", required=False)
    timezone = StrictCharField(
        source="working_hours_timezone",
        required=False,
        max_length=64,
        validators=[validate_timezone_name],
    )
    outOfHoursMessage = StrictCharField(
        source="out_of_hours_message", required=False, allow_blank=True
    )
    days = DaysField(source="working_hours_days", required=False, allow_null=True)
    recipientLocalTime = StrictBooleanField(
        source="working_hours_recipient_local",
        required=False,
        help_text=(
            "The window applies in each recipient's own time zone: the one given as "
            "`customerDetails.timezone`, else the phone number's (a number across zones "
            "takes the one that opens last), else `timezone`."
        ),
    )

    def to_representation(self, instance: object) -> dict:
        data = super().to_representation(instance)
        # Extensions of seed 003, answered only when set.
        if data.get("days") is None:
            data.pop("days", None)
        if not data.get("recipientLocalTime"):
            data.pop("recipientLocalTime", None)
        return data


class SecondsField(StrictFloatField):
    """A number of seconds, fractions kept; whole seconds answered as whole numbers
    (seed 003 writes `"delay": 0`)."""

    def to_representation(self, value: float) -> float | int:
        value = float(value)
        return int(value) if value.is_integer() else value


class ResponseSettingsSerializer(StrictSerializer):
    delay = SecondsField(
        source="reply_delay_seconds", required=False, min_value=0, max_value=MAX_DELAY_SECONDS
    )
    workingHours = WorkingHoursSerializer(source="*", required=False)
    # The seed's request table gives working hours flat; they are folded into
    # workingHours before validation (see to_internal_value) and never answered.
    enabled = StrictBooleanField(write_only=True, required=False)
    start = StrictCharField(write_only=True, required=False)
    end = StrictCharField(write_only=True, required=False)
    timezone = StrictCharField(write_only=True, required=False)
    outOfHoursMessage = StrictCharField(write_only=True, required=False, allow_blank=True)
    days = serializers.ListField(write_only=True, required=False, allow_null=True)
    recipientLocalTime = StrictBooleanField(write_only=True, required=False)

    def to_internal_value(self, data: object) -> dict:
        if isinstance(data, dict) and any(key in data for key in WORKING_HOURS_KEYS):
            nested = data.get("workingHours", {})
            if not isinstance(nested, dict):
                raise serializers.ValidationError({"workingHours": ["Must be an object."]})
            for key in WORKING_HOURS_KEYS:
                if key in data and key in nested and data[key] != nested[key]:
                    raise serializers.ValidationError(
                        {key: [f"Conflicts with workingHours.{key}; give it once."]}
                    )
            flat = {key: data[key] for key in WORKING_HOURS_KEYS if key in data}
            data = {k: v for k, v in data.items() if k not in WORKING_HOURS_KEYS}
            data["workingHours"] = {**flat, **nested}
        return super().to_internal_value(data)


class SecuritySerializer(StrictSerializer):
    hipaaCompliance = StrictBooleanField(source="hipaa_compliance", required=False)


class EmailSettingsSerializer(StrictSerializer):
    subjectLine = StrictCharField(
        source="email_subject_line", required=False, allow_blank=True, max_length=255
    )
    signature = StrictCharField(source="email_signature", required=False, allow_blank=True)


class FlowSettingsSerializer(StrictSerializer):
    responseSettings = ResponseSettingsSerializer(source="*", required=False)
    security = SecuritySerializer(source="*", required=False)
    emailSettings = EmailSettingsSerializer(source="*", required=False)


class MessageFlowSerializer(StrictSerializer):
    _id = serializers.UUIDField(source="id", read_only=True)
    workspaceId = serializers.UUIDField(source="workspace_id", read_only=True)
    name = StrictCharField(max_length=200)
    direction = StrictChoiceField(choices=Direction.choices)
    description = StrictCharField(required=False, allow_blank=True)
    agent = WorkspaceRelatedField(Agent, "agent")
    settings = FlowSettingsSerializer(source="*", required=False)
    prompt = StrictCharField()
    initiationMessage = StrictCharField(source="initiation_message")
    isActive = StrictBooleanField(source="is_active", required=False)
    autopilot = StrictBooleanField(required=False)
    messageChannel = CanonicalChoiceField(Channel, source="message_channel")
    sender = WorkspaceRelatedField(Sender, "sender", required=False, allow_null=True)
    placeholders = serializers.SerializerMethodField(
        help_text=(
            "The placeholders the initiation message uses (e.g. customer.name, "
            "dynamic.when): what a generate-message request may fill in."
        )
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def get_placeholders(self, flow: object) -> list[str]:
        return [p.name for p in placeholders.placeholders_in(flow.initiation_message)]

    def validate_initiationMessage(self, value: str) -> str:
        unknown = placeholders.unknown_scopes(value)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown placeholder {{{{{unknown[0]}}}}}: use customer.<key> or dynamic.<key>."
            )
        return value

    def validate(self, data: dict) -> dict:
        sender = data.get("sender", getattr(self.instance, "sender", None))
        channel = data.get("message_channel", getattr(self.instance, "message_channel", None))
        if sender is not None and channel and sender.channel != channel:
            raise serializers.ValidationError(
                {
                    "sender": [
                        f"The sender is an {sender.channel} sender; this flow sends {channel}."
                    ]
                }
            )
        return data
