import time
import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, QuerySet

from agents.models import Agent
from config.db import release_connection
from config.errors import NotFound
from conversations.models import Conversation, Event, Message
from flows.models import MessageFlow
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


def conversation_detail(conversation_id: uuid.UUID) -> Conversation:
    return (
        Conversation.objects.select_related("flow", "contact")
        .annotate(message_count=Count("messages"))
        .get(pk=conversation_id)
    )


def flow_or_none(workspace: Workspace, flow_id: uuid.UUID | None) -> MessageFlow | None:
    if flow_id is None:
        return None
    flow = MessageFlow.objects.filter(workspace=workspace, pk=flow_id).first()
    if flow is None:
        raise NotFound(f"Message flow not found: {flow_id}.")
    return flow


def agent_or_none(workspace: Workspace, agent_id: uuid.UUID | None) -> Agent | None:
    if agent_id is None:
        return None
    agent = Agent.objects.filter(workspace=workspace, pk=agent_id).first()
    if agent is None:
        raise NotFound(f"Agent not found: {agent_id}.")
    return agent


def message_or_404(conversation: Conversation, message_id: str) -> Message:
    try:
        return conversation.messages.get(pk=message_id)
    except (Message.DoesNotExist, DjangoValidationError, ValueError):
        raise NotFound(f"Message not found: {message_id}.") from None


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
    until one arrives or `wait` seconds pass (long polling)."""
    queryset = Event.objects.filter(workspace=workspace, sequence__gt=after)
    if type:
        queryset = queryset.filter(type=type)
    if conversation_id:
        queryset = queryset.filter(conversation_id=conversation_id)
    deadline = time.monotonic() + wait
    while True:
        events = list(queryset.order_by("sequence")[: limit + 1])
        if events or time.monotonic() >= deadline:
            return events[:limit], len(events) > limit
        release_connection()
        time.sleep(LONG_POLL_INTERVAL)
