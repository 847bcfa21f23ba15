"""The event log: append-only, ordered per workspace by `sequence`.

A writer inserts its events without a sequence, in the transaction that makes the change
they report, and takes no lock shared with any other writer: two requests of one
workspace never wait for each other here. Numbers are handed out after commit by one
sequencer per workspace (`events_sequence`), which whoever is about to read runs first:
`GET /v1/events` (selectors.events_after) and the webhook fan-out.

Why a reader with a cursor (`after=N`) never misses or reorders an event: the sequencer
runs under a per-workspace lock (a PostgreSQL advisory lock; SQLite's write lock), sees
only committed events, and numbers them above every number already given, in one
statement that commits before the lock is released. So a number, once visible, is
final; a smaller number can never appear later; and an event committed after a reader
looked is numbered above whatever that reader has seen.
"""

import uuid

from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from conversations.models import Event
from core.db import Statement, write_together

# Events numbered per statement; a workspace nobody read for long is numbered in steps.
SEQUENCE_BATCH = 5000


def _db_uuid(value: object) -> object:
    value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    return value.hex if connection.vendor == "sqlite" else value  # SQLite keeps char(32)


# Sent once the events' transaction has committed (so a worker can read them), with
# `event_ids` and `workspace_id`. Subscribers (outbound webhooks) connect in their
# AppConfig.ready(); this app knows none of them.
events_committed = Signal()


def _publish_on_commit(event_ids: list[int], workspace_id: uuid.UUID) -> None:
    transaction.on_commit(
        lambda: events_committed.send(sender=Event, event_ids=event_ids, workspace_id=workspace_id)
    )


_INSERT_FIELDS = [
    Event._meta.get_field(name) for name in ("workspace", "type", "conversation_id", "data")
] + [Event._meta.get_field("created_at")]


def event_record(
    *,
    workspace_id: uuid.UUID,
    type: str,
    data: dict,
    conversation_id: uuid.UUID | None = None,
) -> Event:
    """Call inside the transaction that makes the change the event reports. One INSERT;
    the event has no sequence until `events_sequence` gives it one after commit.

    The INSERT is written once, not compiled by the ORM per event: on the API's hot path
    the compilation cost more than the statement (each value is still prepared by its
    model field, as the ORM would)."""
    event, statement = event_statement(
        workspace_id=workspace_id, type=type, data=data, conversation_id=conversation_id
    )
    write_together([statement])
    event_publish(event)
    return event


def event_statement(
    *,
    workspace_id: uuid.UUID,
    type: str,
    data: dict,
    conversation_id: uuid.UUID | None = None,
) -> tuple[Event, Statement]:
    """`event_record` as a statement to send with others (core.db.write_together): the
    event has its id once they are written; then call `event_publish`."""
    event = Event(
        workspace_id=workspace_id,
        type=type,
        conversation_id=conversation_id,
        data=data,
        created_at=timezone.now(),
    )
    event._state.adding, event._state.db = False, connection.alias
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _INSERT_FIELDS]
    return event, Statement(_INSERT_SQL, values, event)


def event_publish(event: Event) -> None:
    """After the event is written: subscribers hear of it once its transaction commits."""
    _publish_on_commit([event.pk], event.workspace_id)


def events_record(
    *, workspace_id: uuid.UUID, events: list[tuple[str, uuid.UUID | None, dict]]
) -> list[Event]:
    """Many events of one workspace at once — (type, conversation_id, data) each — in
    one INSERT. Call inside the transaction they report."""
    if not events:
        return []
    created = Event.objects.bulk_create(
        Event(workspace_id=workspace_id, type=type_, conversation_id=conversation_id, data=data)
        for type_, conversation_id, data in events
    )
    _publish_on_commit([event.pk for event in created], workspace_id)
    return created


def events_sequence(*, workspace_id: uuid.UUID) -> int:
    """Numbers the workspace's committed events that have no sequence yet, in the order
    they were inserted, after the highest number given; returns how many it numbered.
    Run it before reading events by sequence. Costs one indexed look-up when there is
    nothing to number. Call outside a transaction: the lock is held until commit."""
    numbered = 0
    while _pending(workspace_id):
        with transaction.atomic():
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # SQLite needs no lock of its own: a write transaction holds the
                    # database's (settings: IMMEDIATE), so numberings never overlap.
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        [f"events:{workspace_id}"],
                    )
                workspace = _db_uuid(workspace_id)
                cursor.execute(_SEQUENCE_SQL, [workspace, SEQUENCE_BATCH, workspace])
                count = len(cursor.fetchall())  # SQLite has no rowcount for WITH ... UPDATE
        numbered += count
        if count < SEQUENCE_BATCH:
            break
    return numbered


def _pending(workspace_id: uuid.UUID) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_SQL, [_db_uuid(workspace_id)])
        return cursor.fetchone() is not None


_TABLE = Event._meta.db_table
# The index event_unsequenced answers it; written once, as every read of events asks it.
_PENDING_SQL = f"SELECT 1 FROM {_TABLE} WHERE workspace_id = %s AND sequence IS NULL LIMIT 1"  # noqa: S608
_INSERT_SQL = (
    f"INSERT INTO {_TABLE} ({', '.join(f.column for f in _INSERT_FIELDS)}) "  # noqa: S608
    f"VALUES ({', '.join(['%s'] * len(_INSERT_FIELDS))}) RETURNING id"
)
# One statement, so the highest number and the numbering see the same snapshot: the
# pending events in insertion order get max + 1, max + 2, ... The maximum is not
# correlated with the row, so it is computed once, before any row changes (PostgreSQL
# and SQLite alike); the pending rows are materialized first for the same reason.
_SEQUENCE_SQL = f"""
WITH pending AS MATERIALIZED (
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS position
    FROM {_TABLE}
    WHERE workspace_id = %s AND sequence IS NULL
    ORDER BY id
    LIMIT %s
)
UPDATE {_TABLE}
SET sequence = pending.position + (
    SELECT COALESCE(MAX(numbered.sequence), 0)
    FROM {_TABLE} AS numbered
    WHERE numbered.workspace_id = %s AND numbered.sequence IS NOT NULL
)
FROM pending
WHERE {_TABLE}.id = pending.id
RETURNING {_TABLE}.id
"""  # noqa: S608 - the table name is ours
