from django.db import models

from core.ids import uuid7


class TimestampedModel(models.Model):
    """Time-ordered UUID primary key and creation/update times, for every API resource."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def update_fields(instance: models.Model, data: dict) -> list[str]:
    """Sets each field `data` names on `instance` (unsaved) and returns their names, for
    the services' update functions and `save(update_fields=...)`."""
    for field, value in data.items():
        setattr(instance, field, value)
    return list(data)
