import time
import uuid
from datetime import UTC, datetime

from django.db.models import Exists, Q, QuerySet

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


# What conversations.resources.message shows: the page reads no other column.
_MESSAGE_SHOWN = (
    "conversation_id",
    "role",
    "text",
    "sender_id",
    "sender_type",
    "metadata",
    "reply_to_id",
    "status",
    "send_at",
    "llm_model",
    "input_tokens",
    "output_tokens",
    "created_at",
)


def _messages_page(
    workspace_id: uuid.UUID,
    conversation_id: uuid.UUID,
    rows: int,
    backwards: bool,
    created_at: datetime | None = None,
    pk: uuid.UUID | None = None,
) -> QuerySet:
    # The workspace through the conversation's key (one row by its primary key), not the
    # message's own column: PostgreSQL then cannot pick the workspace's index of every
    # message, and reads the page in order off (conversation, created_at, id).
    queryset = Message.objects.filter(
        conversation_id=conversation_id, conversation__workspace_id=workspace_id
    )
    if created_at is not None:  # strictly past (created_at, pk), the way the page goes
        if backwards:
            queryset = queryset.filter(
                Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk),
                created_at__lte=created_at,
            )
        else:
            queryset = queryset.filter(
                Q(created_at__gt=created_at) | Q(created_at=created_at, pk__gt=pk),
                created_at__gte=created_at,
            )
    order = ("-created_at", "-id") if backwards else ("created_at", "id")
    return queryset.only(*_MESSAGE_SHOWN).order_by(*order)[:rows]


_MESSAGES_PAGE = Prepared(
    _messages_page,
    workspace_id=uuid.uuid4(),
    conversation_id=uuid.uuid4(),
    created_at=datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC),
    pk=uuid.uuid4(),
)


def conversation_messages_page(
    *,
    workspace: Workspace,
    conversation_id: object,
    rows: int,
    after: tuple[datetime, uuid.UUID] | None = None,
    before: tuple[datetime, uuid.UUID] | None = None,
) -> list[Message]:
    """Up to `rows` of the conversation's messages in time order after the (created_at,
    id) `after`, or the last ones before `before`, newest first; the first ones without
    either. One statement, built once per page size (KeysetPagination's fetch), scoped to
    the workspace in the same statement: the conversation is looked up on its own (a 404
    when it is not the workspace's) only when the page is empty."""
    parsed = parse_id(conversation_id)
    if parsed is None:
        raise NotFound(f"Conversation not found: {conversation_id}.")
    where = {"workspace_id": workspace.pk, "conversation_id": parsed}
    position = before or after
    if position is None:
        page = _MESSAGES_PAGE(**where, rows=rows, backwards=False)
    else:
        created_at, pk = position
        page = _MESSAGES_PAGE(
            **where, created_at=created_at, pk=pk, rows=rows, backwards=before is not None
        )
    if not page:
        conversation_row(workspace=workspace, conversation_id=parsed)
    return page


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
    # Each row says whether the workspace has events not numbered yet (an uncorrelated
    # EXISTS: PostgreSQL answers it once per query, from the index event_unsequenced).
    unnumbered = Event.objects.filter(workspace_id=workspace_id, sequence__isnull=True)
    queryset = Event.objects.filter(workspace_id=workspace_id, sequence__gt=after).annotate(
        unnumbered=Exists(unnumbered)
    )
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
    until one arrives or `wait` seconds pass (long polling).

    Committed events not numbered yet are numbered (events_sequence) and the page read
    again when it has room for them: they are numbered after every event numbered
    before, so a page read first never lacks one that belongs before its last (a cursor
    never skips one). The page says whether there are any, so a read with nothing to
    number is one query."""
    values = {"workspace_id": workspace.pk, "after": after, "rows": limit + 1}
    if type:
        values["type"] = type
    if conversation_id:
        values["conversation_id"] = conversation_id
    deadline = time.monotonic() + wait
    while True:
        events = _EVENTS_AFTER(**values)
        if len(events) <= limit and (not events or events[0].unnumbered):
            # Room on the page, and events to number (or, on an empty page, perhaps).
            if events_sequence(workspace_id=workspace.pk):
                events = _EVENTS_AFTER(**values)
        if events or time.monotonic() >= deadline:
            return events[:limit], len(events) > limit
        release_connection()
        time.sleep(LONG_POLL_INTERVAL)
