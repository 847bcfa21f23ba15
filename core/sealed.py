"""Model fields whose values are encrypted at rest (core.crypto) when their row says so,
and read back in clear: whoever loads the row (a service, a serializer, the admin, the
console) sees the value; only the database holds the sealed form.

Sealing happens as the row is written: `seal_when` names the row's flag ("hipaa", or
"conversation.hipaa" for a message), or is True for a secret that is always sealed. The
ORM's save(), create() and bulk_create() seal on their own (through pre_save);
bulk_update(), update() and raw SQL do not, so their callers seal the values first
(`sealed_bulk_update`, or `seal_value` for a COPY). A row written in clear before keeps
reading: opening passes unsealed values through.
"""

import copy
import operator
from collections.abc import Iterable

from django.db import models

from core.crypto import decrypt_text, encrypt_text, open_object, seal_object


class _Sealed:
    """What the two fields share: when a row's value is sealed."""

    def __init__(self, *args: object, seal_when: str | bool = False, **kwargs: object) -> None:
        self.seal_when = seal_when  # not a schema matter: migrations never see it
        super().__init__(*args, **kwargs)

    def must_seal(self, instance: models.Model) -> bool:
        if isinstance(self.seal_when, bool):
            return self.seal_when
        return bool(operator.attrgetter(self.seal_when)(instance))

    def pre_save(self, model_instance: models.Model, add: bool) -> object:
        value = super().pre_save(model_instance, add)
        return self.seal(value) if self.must_seal(model_instance) else value


class SealedTextField(_Sealed, models.TextField):
    def seal(self, value: object) -> object:
        return encrypt_text(value) if value else value

    def from_db_value(self, value: str | None, expression: object, connection: object) -> object:
        return value if value is None else decrypt_text(value)


class SealedJSONField(_Sealed, models.JSONField):
    """`plain_keys`: keys of an object kept in clear when their values are ids, for the
    queries that look rows up by them (a message's `retry_of`)."""

    def __init__(self, *args: object, plain_keys: Iterable[str] = (), **kwargs: object) -> None:
        self.plain_keys = frozenset(plain_keys)
        super().__init__(*args, **kwargs)

    def seal(self, value: object) -> object:
        return seal_object(value, plain_keys=self.plain_keys)

    def from_db_value(self, value: object, expression: object, connection: object) -> object:
        return open_object(super().from_db_value(value, expression, connection))


def seal_value(instance: models.Model, field_name: str) -> object:
    """The value as the field would store it for this row (sealed or not)."""
    field = instance._meta.get_field(field_name)
    value = getattr(instance, field.attname)
    if isinstance(field, _Sealed) and field.must_seal(instance):
        return field.seal(value)
    return value


def sealed_bulk_update(
    model: type[models.Model], objs: Iterable[models.Model], fields: list[str]
) -> int:
    """bulk_update() with the sealed fields sealed as save() would (bulk_update skips
    pre_save). The instances keep their clear values."""
    rows = []
    for obj in objs:
        row = copy.copy(obj)
        for name in fields:
            setattr(row, model._meta.get_field(name).attname, seal_value(obj, name))
        rows.append(row)
    return model.objects.bulk_update(rows, fields)
