import time
import uuid
from datetime import datetime

from django.db.models import QuerySet

from conversations.events import events_sequence
from conversations.models import Conversation, Event, Message
from core.db import Prepared, release_connection
from core.errors import NotFound
from core.lookups import get_in_workspace, parse_id
from workspaces.models import Workspace

LONG_POLL_INTERVAL = 0.25


def conversations_filter(
    queryset: QuerySet, *, flow_id: uuid.UUID | None, contact_id: uuid.UUID | None
) -> QuerySet:
    if flow_id is not None:
        queryset = queryset.filter(flow_id=flow_id)
    if contact_id is not None:
        queryset = queryset.filter(contact_id=contact_id)
    return queryset


def conversations_annotated(*, workspace: Workspace) -> QuerySet:
    """The workspace's conversations as the API shows them (their message count is a
    column, kept as messages are stored)."""
    return Conversation.objects.filter(workspace=workspace).select_related("flow", "contact")


def conversation_for_workspace(
    *, workspace: Workspace, conversation_id: object, queryset: QuerySet | None = None
) -> Conversation:
    """404 alike for a missing conversation, another workspace's and a malformed id."""
    if queryset is None:
        queryset = Conversation.objects.select_related("flow__agent", "agent", "contact")
    return get_in_workspace(queryset, workspace=workspace, pk=conversation_id, what="Conversation")


_CONVERSATION_ROW = Prepared(
    lambda workspace_id, pk: Conversation.objects.filter(workspace_id=workspace_id, pk=pk),
    workspace_id=uuid.uuid4(),
    pk=uuid.uuid4(),
)


def conversation_row(*, workspace: Workspace, conversation_id: object) -> Conversation:
    """The conversation alone, without its flow, agent or contact, from SQL built once:
    the API's hot paths look a conversation up on every request. 404 as above."""
    parsed = parse_id(conversation_id)
    found = _CONVERSATION_ROW(workspace_id=workspace.pk, pk=parsed) if parsed else []
    if not found:
        raise NotFound(f"Conversation not found: {conversation_id}.")
    return found[0]


def conversation_detail(*, workspace: Workspace, conversation_id: object) -> Conversation:
    """The conversation as the API shows it (with its message count)."""
    return conversation_for_workspace(
        workspace=workspace,
        conversation_id=conversation_id,
        queryset=conversations_annotated(workspace=workspace),
    )


def messages_for_workspace(
    *,
    workspace: Workspace,
    status: str | None = None,
    conversation_id: uuid.UUID | None = None,
    flow_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
    since: datetime | None = None,
) -> QuerySet:
    """The workspace's messages across all its conversations, narrowed by the filters
    given (they combine). Unordered: the caller's pagination orders it. Rendering needs
    no other table, so a page is one query whatever its size."""
    queryset = Message.objects.filter(workspace=workspace)
    if status is not None:
        queryset = queryset.filter(status=status)
    if conversation_id is not None:
        queryset = queryset.filter(conversation_id=conversation_id)
    if flow_id is not None:
        queryset = queryset.filter(conversation__flow_id=flow_id)
    if contact_id is not None:
        queryset = queryset.filter(conversation__contact_id=contact_id)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    return queryset


def _events_after(
    *,
    workspace_id: uuid.UUID,
    after: int,
    rows: int,
    type: str | None = None,
    conversation_id: uuid.UUID | None = None,
) -> QuerySet:
    queryset = Event.objects.filter(workspace_id=workspace_id, sequence__gt=after)
    if type is not None:
        queryset = queryset.filter(type=type)
    if conversation_id is not None:
        queryset = queryset.filter(conversation_id=conversation_id)
    return queryset.order_by("sequence")[:rows]


# Compiled once per page size and combination of filters (GET /v1/events: every poll).
_EVENTS_AFTER = Prepared(
    _events_after,
    workspace_id=uuid.uuid4(),
    after=7_364_019_221,
    type="sample.type.5e0c",
    conversation_id=uuid.uuid4(),
)


def events_after(
    *,
    workspace: Workspace,
    after: int,
    type: str | None,
    conversation_id: uuid.UUID | None,
    limit: int,
    wait: int,
) -> tuple[list[Event], bool]:
    """Events with a sequence above `after`, oldest first. With `wait`, polls the table
    until one arrives or `wait` seconds pass (long polling). Committed events are
    numbered first (events_sequence), so a cursor never skips one."""
    values = {"workspace_id": workspace.pk, "after": after, "rows": limit + 1}
    if type:
        values["type"] = type
    if conversation_id:
        values["conversation_id"] = conversation_id
    deadline = time.monotonic() + wait
    while True:
        events_sequence(workspace_id=workspace.pk)
        events = _EVENTS_AFTER(**values)
        if events or time.monotonic() >= deadline:
            return events[:limit], len(events) > limit
        release_connection()
        time.sleep(LONG_POLL_INTERVAL)
