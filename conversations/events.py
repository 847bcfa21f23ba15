"""The event log: append-only, ordered per workspace.

Sequence numbers come from a counter on the workspace row, taken under that row's lock,
which is held until the surrounding transaction commits; so within a workspace, events
become visible in sequence order and a reader polling `after=N` never skips one.
"""

import uuid

from django.db import connection, transaction
from django.dispatch import Signal

from conversations.models import Event
from workspaces.models import Workspace


def _db_uuid(value: object) -> object:
    value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return value.hex if connection.vendor == "sqlite" else value  # SQLite keeps char(32)


def _next_sequence(workspace_id: uuid.UUID, count: int = 1) -> int:
    """Takes `count` numbers and returns the last, in one statement (PostgreSQL and
    SQLite both have RETURNING); the row stays locked until the transaction ends."""
    table = connection.ops.quote_name(Workspace._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET event_sequence = event_sequence + %s "  # noqa: S608 - names only
            "WHERE id = %s RETURNING event_sequence",
            [count, _db_uuid(workspace_id)],
        )
        return cursor.fetchone()[0]


# Sent once the events' transaction has committed (so a worker can read them), with
# `event_ids` and `workspace_id`. Subscribers (outbound webhooks) connect in their
# AppConfig.ready(); this app knows none of them.
events_committed = Signal()


def _publish_on_commit(event_ids: list[int], workspace_id: uuid.UUID) -> None:
    transaction.on_commit(
        lambda: events_committed.send(sender=Event, event_ids=event_ids, workspace_id=workspace_id)
    )


def event_record(
    *,
    workspace_id: uuid.UUID,
    type: str,
    data: dict,
    conversation_id: uuid.UUID | None = None,
) -> Event:
    """Call inside the transaction that makes the change the event reports."""
    # No savepoint: on any error the caller's transaction rolls back as a whole anyway.
    with transaction.atomic(savepoint=False):
        sequence = _next_sequence(workspace_id)
        event = Event.objects.create(
            workspace_id=workspace_id,
            sequence=sequence,
            type=type,
            conversation_id=conversation_id,
            data=data,
        )
        _publish_on_commit([event.pk], workspace_id)
        return event


def events_record(
    *, workspace_id: uuid.UUID, events: list[tuple[str, uuid.UUID | None, dict]]
) -> list[Event]:
    """Many events of one workspace at once — (type, conversation_id, data) each — with
    one counter update and one INSERT. Call inside the transaction they report."""
    if not events:
        return []
    with transaction.atomic(savepoint=False):
        last = _next_sequence(workspace_id, len(events))
        created = Event.objects.bulk_create(
            Event(
                workspace_id=workspace_id,
                sequence=last - len(events) + 1 + index,
                type=type_,
                conversation_id=conversation_id,
                data=data,
            )
            for index, (type_, conversation_id, data) in enumerate(events)
        )
        _publish_on_commit([event.pk for event in created], workspace_id)
        return created
