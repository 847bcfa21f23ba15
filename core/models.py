from django.db import models

from core.ids import uuid7


class TimestampedModel(models.Model):
    """Time-ordered UUID primary key and creation/update times, for every API resource."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def optional_link(to: str | type[models.Model], *, related_name: str, **kwargs: object):
    """A relation that may be empty and empties itself when its target is deleted (a
    conversation outlives its flow, a workspace its default flow)."""
    return models.ForeignKey(
        to, null=True, blank=True, on_delete=models.SET_NULL, related_name=related_name, **kwargs
    )


def update_fields(instance: models.Model, data: dict) -> list[str]:
    """Sets each field `data` names on `instance` (unsaved) and returns their names, for
    the services' update functions and `save(update_fields=...)`."""
    for field, value in data.items():
        setattr(instance, field, value)
    return list(data)
