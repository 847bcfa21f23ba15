"""Finding one row of a workspace by an id that came from a client."""

import uuid

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from core.errors import NotFound


def parse_id(value: object) -> uuid.UUID | None:
    """A client's id as a UUID, or None when it cannot be one (then nothing has it)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def get_in_workspace(
    queryset: QuerySet, *, workspace: object, pk: object, what: str, field: str = "workspace"
) -> Model:
    """The row with this id in the workspace. Missing, another workspace's and malformed
    ids are the same 404, so existence never leaks."""
    parsed = parse_id(pk)
    if parsed is not None:
        try:
            return queryset.get(**{field: workspace}, pk=parsed)
        except ObjectDoesNotExist:
            pass
    raise NotFound(f"{what} not found: {pk}.")
