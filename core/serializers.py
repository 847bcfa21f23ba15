import copy

from rest_framework import serializers

from core.fields import reject_unknown_fields


class FieldsCopiedOnce(serializers.Serializer):
    """For the request serializers of the hottest endpoints. DRF deep-copies every
    declared field for each serializer instance (building each field anew, more calls
    than the validation itself); here the fields are deep-copied once per class and
    each instance gets shallow copies of them, which bind to it as DRF's own copies do.
    For flat serializers only (no nested serializer among the fields, checked): a
    nested one would carry state of its own into every copy."""

    def get_fields(self) -> dict:
        cls = type(self)
        template = cls.__dict__.get("_fields_template")
        if template is None:
            template = copy.deepcopy(self._declared_fields)
            if any(isinstance(field, serializers.BaseSerializer) for field in template.values()):
                raise TypeError(f"{cls.__name__} has a nested serializer: declare it plainly")
            cls._fields_template = template
        return {name: copy.copy(field) for name, field in template.items()}


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
