"""The event log: append-only, ordered per workspace.

Sequence numbers come from a counter on the workspace row, taken under that row's lock,
which is held until the surrounding transaction commits; so within a workspace, events
become visible in sequence order and a reader polling `after=N` never skips one.
"""

import uuid

from django.db import transaction
from django.db.models import F

from conversations.models import Event
from workspaces.models import Workspace


def event_record(
    *,
    workspace_id: uuid.UUID,
    type: str,
    data: dict,
    conversation_id: uuid.UUID | None = None,
) -> Event:
    """Call inside the transaction that makes the change the event reports."""
    with transaction.atomic():
        Workspace.objects.filter(pk=workspace_id).update(event_sequence=F("event_sequence") + 1)
        sequence = (
            Workspace.objects.filter(pk=workspace_id).values_list("event_sequence", flat=True).get()
        )
        return Event.objects.create(
            workspace_id=workspace_id,
            sequence=sequence,
            type=type,
            conversation_id=conversation_id,
            data=data,
        )
