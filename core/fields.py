"""Serializer fields that take JSON types as they are: "10" is not a number, 1 is not a
boolean and 12 is not a name. DRF's own fields coerce, which hides client bugs."""

from datetime import datetime, tzinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings


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


class CanonicalChoiceField(serializers.ChoiceField):
    """A choice given in any letter case, answered in its canonical spelling."""

    default_error_messages = {"invalid_choice": "Must be one of {choices}."}

    def __init__(self, choices: type, **kwargs: object) -> None:
        self._canonical = {value.lower(): value for value in choices.values}
        super().__init__(choices=choices.choices, **kwargs)

    def to_internal_value(self, data: object) -> str:
        if isinstance(data, str) and data.lower() in self._canonical:
            return self._canonical[data.lower()]
        self.fail("invalid_choice", choices=", ".join(self._canonical.values()))


class StrictChoiceField(serializers.ChoiceField):
    default_error_messages = {"invalid_choice": "Must be one of {choices}."}

    def to_internal_value(self, data: object) -> str:
        if isinstance(data, str) and data in self.choices:
            return data
        self.fail("invalid_choice", choices=", ".join(str(c) for c in self.choices))


@extend_schema_field(OpenApiTypes.STR)
class WorkspaceRelatedField(serializers.Field):
    """The `_id` of a row of the request's workspace. Another workspace's row is treated
    exactly like one that does not exist, so existence never leaks."""

    default_error_messages = {"does_not_exist": "No {noun} with id '{value}' in this workspace."}

    def __init__(self, model: type, noun: str, **kwargs: object) -> None:
        self.model, self.noun = model, noun
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> object:
        found = None
        if isinstance(data, str):
            try:
                found = self.model.objects.filter(
                    workspace=self.context["workspace"], pk=data
                ).first()
            except DjangoValidationError:  # a malformed id is unknown, not a server error
                found = None
        if found is None:
            self.fail("does_not_exist", noun=self.noun, value=data)
        return found

    def to_representation(self, value: object) -> str:
        return str(value.pk)


def datetime_text(value: datetime | None, zone: tzinfo | None = None) -> str | None:
    """A time as the API's serializers write it (REST_FRAMEWORK's DATETIME_FORMAT in the
    current time zone, UTC), for answers built without a serializer. A page of rows
    passes the current zone (`timezone.get_current_timezone()`) once for all its times."""
    if value is None:
        return None
    return timezone.localtime(value, zone).strftime(api_settings.DATETIME_FORMAT)
