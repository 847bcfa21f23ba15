from rest_framework import serializers

from core.fields import reject_unknown_fields


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not declare (read-only ones a client echoes back from a GET,
    such as `_id` or `createdAt`, are declared and therefore ignored on input)."""

    def to_internal_value(self, data: object) -> dict:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"non_field_errors": ["Expected a JSON object."]}, code="invalid"
            )
        reject_unknown_fields(self, data)
        return super().to_internal_value(data)
