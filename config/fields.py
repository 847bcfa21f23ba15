"""Serializer fields that take JSON types as they are: "10" is not a number, 1 is not a
boolean and 12 is not a name. DRF's own fields coerce, which hides client bugs."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be a whole number."}

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if isinstance(data, float) and not data.is_integer():
            self.fail("invalid")
        return super().to_internal_value(int(data))


class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": "Must be a number."}

    def to_internal_value(self, data: object) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictDictField(serializers.DictField):
    default_error_messages = {"not_a_dict": "Must be an object."}


def reject_unknown_fields(serializer: serializers.Serializer, data: object, ignored=()) -> None:
    """Unknown keys are a 400 that names them, so a typo never silently does nothing.
    `ignored` lists read-only keys a client may echo back from a GET (e.g. `_id`)."""
    if not isinstance(data, dict):
        return
    known = set(serializer.fields) | set(ignored)
    unknown = sorted(k for k in data if k not in known)
    if unknown:
        raise serializers.ValidationError(
            {
                unknown[0]: [
                    serializers.ErrorDetail("is not a recognised field.", code="unknown_field")
                ]
            }
        )
