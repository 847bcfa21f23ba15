"""The operator console's reads: the inbox (conversations needing a person first) and a
conversation's transcript with who said what.

Every function takes the workspaces the operator may see (None: all, for superusers),
never a request, so the scoping is decided once, by the caller, from the admin's rules.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from conversations.models import Conversation, DeliveryStatus, Message, Role
from conversations.operator_actions import EDITED_BY, RETRY_OF

FAILED = (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)
PERSON_PREFIX = "admin:"  # sender_id of a message an operator wrote in the console
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ATTENTION = {
    "draft": "Draft waiting",
    "failed": "Failed send",
    "unanswered": "Customer waiting",
    "paused": "AI paused",
}


def person_sender_id(user_id: object) -> str:
    return f"{PERSON_PREFIX}{user_id}"


@dataclass(frozen=True)
class InboxFilters:
    flow_id: uuid.UUID | None = None
    channel: str = ""
    attention: str = ""  # a key of ATTENTION
    paused: bool | None = None
    q: str = ""


def conversations_in(workspace_ids: list | None) -> QuerySet:
    queryset = Conversation.objects.filter(is_sandbox=False)
    return queryset if workspace_ids is None else queryset.filter(workspace_id__in=workspace_ids)


def inbox(*, workspace_ids: list | None, filters: InboxFilters, now: datetime) -> QuerySet:
    """The conversations, those needing a person first (a draft waiting, a failed send not
    retried, a customer's message nobody answers, the AI paused by a takeover), then the
    rest, newest activity first. One query, whatever the page size; the counts come from
    one aggregation over the conversations' messages.

    "Customer waiting": the customer spoke last (not counting discarded drafts and
    automatic notices), has not opted out, and no AI reply is on its way."""
    answer = (
        Q(messages__role=Role.AGENT)
        & ~Q(messages__status=DeliveryStatus.CANCELED)
        & ~Q(messages__sender_type="system")
    )
    paused = Q(ai_paused=True) & (Q(ai_paused_until__isnull=True) | Q(ai_paused_until__gt=now))
    queryset = (
        conversations_in(workspace_ids)
        .select_related("flow", "contact", "workspace")
        .annotate(
            drafts=Count("messages", filter=Q(messages__status=DeliveryStatus.DRAFT)),
            # each failure is retried at most once (operator_actions.message_retry)
            failures=Count("messages", filter=Q(messages__status__in=FAILED))
            - Count("messages", filter=Q(messages__metadata__has_key=RETRY_OF)),
            last_at=Coalesce(Max("messages__created_at"), F("created_at")),
            last_customer_at=Max("messages__created_at", filter=Q(messages__role=Role.USER)),
            last_answer_at=Coalesce(
                Max("messages__created_at", filter=answer),
                Value(EPOCH, output_field=DateTimeField()),
            ),
        )
        .annotate(
            paused_now=Case(When(paused, then=1), default=0, output_field=IntegerField()),
            unanswered=Case(
                When(
                    Q(last_customer_at__gt=F("last_answer_at"))
                    & Q(contact__opted_out_at__isnull=True)
                    & (Q(reply_due_at__isnull=True) | paused),
                    then=1,
                ),
                default=0,
                output_field=IntegerField(),
            ),
        )
        .annotate(
            attention=Case(
                When(
                    Q(drafts__gt=0) | Q(failures__gt=0) | Q(unanswered=1) | Q(paused_now=1),
                    then=1,
                ),
                default=0,
                output_field=IntegerField(),
            )
        )
    )
    queryset = _filtered(queryset, filters, paused)
    return queryset.order_by("-attention", F("last_at").desc(), "-pk")


def _filtered(queryset: QuerySet, filters: InboxFilters, paused: Q) -> QuerySet:
    if filters.flow_id:
        queryset = queryset.filter(flow_id=filters.flow_id)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.paused is not None:
        queryset = queryset.filter(paused) if filters.paused else queryset.exclude(paused)
    kind = {
        "draft": Q(drafts__gt=0),
        "failed": Q(failures__gt=0),
        "unanswered": Q(unanswered=1),
        "paused": Q(paused_now=1),
    }.get(filters.attention)
    if kind is not None:
        queryset = queryset.filter(kind)
    if filters.q.strip():
        queryset = queryset.filter(_search(filters.q.strip()))
    return queryset


def _search(q: str) -> Q:
    """Contact name and address, and message text. The text of HIPAA conversations and
    their contacts' names are encrypted at rest, so those are found by address only.
    PostgreSQL: full-text search (the `simple` configuration: names, codes and any
    language, no stemming); SQLite: a substring match."""
    contact = Q(contact__name__icontains=q) | Q(contact__address__icontains=q)
    messages = Message.objects.filter(conversation=OuterRef("pk"), conversation__hipaa=False)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        messages = messages.annotate(document=SearchVector("text", config="simple")).filter(
            document=SearchQuery(q, config="simple", search_type="websearch")
        )
    else:
        messages = messages.filter(text__icontains=q)
    return contact | Exists(messages)


def last_messages(conversation_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Message]:
    """Each conversation's newest message that is not a control note, in one query."""
    newest = (
        Message.objects.filter(conversation_id=OuterRef("pk"))
        .exclude(role__in=[Role.CONTROL, Role.SYSTEM])
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    ids = Conversation.objects.filter(pk__in=list(conversation_ids)).values(last=newest)
    found = Message.objects.filter(pk__in=ids).only(
        "conversation_id", "role", "text", "sender_id", "sender_type", "created_at", "status"
    )
    return {message.conversation_id: message for message in found}


# --- The transcript -------------------------------------------------------------------

TRANSCRIPT_LIMIT = 300


@dataclass(frozen=True)
class Speaker:
    side: str  # customer | team | note
    kind: str  # customer | ai | person | system | note
    label: str


def transcript(conversation: Conversation, *, limit: int = TRANSCRIPT_LIMIT) -> list[Message]:
    """The conversation's latest messages (up to `limit`), oldest first."""
    newest = list(conversation.messages.order_by("-created_at", "-id")[:limit])
    newest.reverse()
    return newest


def transcript_version(conversation: Conversation) -> str:
    """Changes whenever a message is added or changes state (one small query): the poll
    asks with the version it has and gets nothing back while it is current."""
    found = conversation.messages.aggregate(count=Count("id"), changed=Max("updated_at"))
    changed = found["changed"].timestamp() if found["changed"] else 0
    return f"{found['count']}-{changed:.6f}"


def people_named(messages: Iterable[Message]) -> dict[str, str]:
    """The operators who wrote or edited these messages, by sender id ("admin:7")."""
    ids = set()
    for message in messages:
        for sender in (message.sender_id, (message.metadata or {}).get(EDITED_BY, "")):
            if isinstance(sender, str) and sender.startswith(PERSON_PREFIX):
                ids.add(sender.removeprefix(PERSON_PREFIX))
    users = get_user_model().objects.filter(pk__in=[i for i in ids if i.isdigit()])
    return {
        person_sender_id(user.pk): user.get_full_name() or user.get_username() for user in users
    }


def speaker(message: Message, conversation: Conversation, people: dict[str, str]) -> Speaker:
    """Who wrote a message, as the transcript marks it."""
    if message.role == Role.USER:
        contact = conversation.contact
        label = (contact.name or contact.address) if contact else (message.sender_id or "User")
        return Speaker("customer", "customer", label)
    if message.role != Role.AGENT:
        return Speaker("note", "note", message.get_role_display())
    if message.sender_type == "system":
        kind = str((message.metadata or {}).get("automatic", "")).replace("_", " ")
        return Speaker("team", "system", f"Automatic ({kind})" if kind else "Automatic")
    if message.sender_id in people:
        return Speaker("team", "person", people[message.sender_id])
    if message.sender_type == "flow":
        return Speaker("team", "ai", "AI (opening message)")
    agent = conversation.agent or (conversation.flow.agent if conversation.flow else None)
    if message.llm_model or (agent and message.sender_id == str(agent.pk)):
        return Speaker("team", "ai", agent.name if agent else "AI")
    if message.sender_id.startswith(PERSON_PREFIX):
        return Speaker("team", "person", "A former operator")
    return Speaker("team", "person", message.sender_id or "A person")
