"""The admin dashboard's reads: per workspace, the last days' messages in and out, how
sends ended, replies and how fast they came, drafts waiting and opt-outs.

A fixed number of queries whatever the number of workspaces (each groups by workspace),
so the index page costs the same for an operator of one workspace and a superuser of
fifty. Days are the project's time zone's (settings.TIME_ZONE).
"""

import statistics
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Value, Window
from django.db.models.functions import Concat, Lag, TruncDate
from django.utils import timezone

from conversations.inbox import PERSON_PREFIX
from conversations.models import Contact, DeliveryStatus, Message, Role

DAYS = 14
# What left (or tried to leave) through SMS or email.
OUT = (
    DeliveryStatus.QUEUED,
    DeliveryStatus.SENDING,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.UNDELIVERED,
)


@dataclass
class Day:
    day: date
    inbound: int = 0
    outbound: int = 0


@dataclass
class WorkspaceStats:
    workspace_id: uuid.UUID
    days: list[Day]
    delivered: int = 0
    failed: int = 0
    undelivered: int = 0
    replies_ai: int = 0
    replies_people: int = 0
    median_reply_seconds: float | None = None
    drafts_waiting: int = 0
    opt_outs: int = 0
    # filled by the caller from the webhooks app (above this one)
    webhooks_failing: int = 0

    @property
    def inbound(self) -> int:
        return sum(day.inbound for day in self.days)

    @property
    def outbound(self) -> int:
        return sum(day.outbound for day in self.days)

    @property
    def replies(self) -> int:
        return self.replies_ai + self.replies_people


def window_start(now: datetime, days: int = DAYS) -> datetime:
    """Midnight (local time) `days - 1` days ago: the window holds today and the days before."""
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


def workspace_stats(
    *, workspace_ids: list[uuid.UUID], now: datetime, days: int = DAYS
) -> dict[uuid.UUID, WorkspaceStats]:
    """Four queries for any number of workspaces."""
    since = window_start(now, days)
    first = since.date()
    stats = {
        pk: WorkspaceStats(pk, [Day(first + timedelta(days=i)) for i in range(days)])
        for pk in workspace_ids
    }
    if not workspace_ids:
        return stats
    recent = Message.objects.filter(
        workspace_id__in=workspace_ids, created_at__gte=since, conversation__is_sandbox=False
    )
    reply = (
        Q(role=Role.AGENT)
        & ~Q(sender_type__in=["system", "flow"])
        & ~Q(status=DeliveryStatus.CANCELED)
    )
    per_day = (
        recent.annotate(day=TruncDate("created_at"))
        .values("workspace_id", "day")
        .annotate(
            inbound=Count("pk", filter=Q(role=Role.USER)),
            outbound=Count("pk", filter=Q(role=Role.AGENT, status__in=OUT)),
            delivered=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
            undelivered=Count("pk", filter=Q(status=DeliveryStatus.UNDELIVERED)),
            people=Count("pk", filter=reply & Q(sender_id__startswith=PERSON_PREFIX)),
            replies=Count("pk", filter=reply),
        )
        .order_by()
    )
    for row in per_day:
        found = stats[row["workspace_id"]]
        index = (row["day"] - first).days
        if 0 <= index < days:
            found.days[index].inbound += row["inbound"]
            found.days[index].outbound += row["outbound"]
        found.delivered += row["delivered"]
        found.failed += row["failed"]
        found.undelivered += row["undelivered"]
        found.replies_people += row["people"]
        found.replies_ai += row["replies"] - row["people"]
    for workspace_id, seconds in _median_reply_seconds(recent).items():
        stats[workspace_id].median_reply_seconds = seconds
    drafts = (
        Message.objects.filter(workspace_id__in=workspace_ids, status=DeliveryStatus.DRAFT)
        .values("workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in drafts:
        stats[row["workspace_id"]].drafts_waiting = row["n"]
    opt_outs = (
        Contact.objects.filter(workspace_id__in=workspace_ids, opted_out_at__gte=since)
        .values("workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in opt_outs:
        stats[row["workspace_id"]].opt_outs = row["n"]
    return stats


def _reply_pairs(recent: QuerySet) -> QuerySet:
    """Each reply with the customer's message it followed: the first agent message after
    a customer's (the AI's or a person's), with that message's time, from each message
    and the one before it in its conversation (a window function)."""
    spoken = recent.filter(role__in=[Role.USER, Role.AGENT]).exclude(
        Q(sender_type="system") | Q(status=DeliveryStatus.CANCELED)
    )
    previous = {"partition_by": [F("conversation_id")], "order_by": [F("created_at"), F("id")]}
    # The step is filtered as one window expression: Django applies a filter on a plain
    # column (role = agent) inside the windowed query, before LAG sees the rows.
    return (
        spoken.values("workspace_id", "created_at")
        .annotate(
            step=Concat(Window(Lag("role"), **previous), Value(">"), F("role")),
            before_at=Window(Lag("created_at"), **previous),
        )
        .filter(step=f"{Role.USER}>{Role.AGENT}")
        .values_list("workspace_id", "created_at", "before_at")
    )


def _median_reply_seconds(recent: QuerySet) -> dict[uuid.UUID, float]:
    """Per workspace, the median of the seconds from a customer's message to its reply.
    PostgreSQL computes it (percentile_cont over the pairs query); elsewhere the pairs
    come back and Python takes the median."""
    pairs = _reply_pairs(recent)
    if connection.vendor != "postgresql":
        seconds: dict[uuid.UUID, list[float]] = {}
        for workspace_id, replied_at, asked_at in pairs:
            seconds.setdefault(workspace_id, []).append((replied_at - asked_at).total_seconds())
        return {pk: statistics.median(values) for pk, values in seconds.items()}
    sql, params = pairs.query.sql_with_params()
    # The ORM's own SQL, its parameters still separate, inside an aggregate it cannot write.
    median = (
        "SELECT pairs.col1, percentile_cont(0.5) WITHIN GROUP"  # noqa: S608
        " (ORDER BY EXTRACT(EPOCH FROM pairs.col2 - pairs.col3))"
        f" FROM ({sql}) AS pairs (col1, col2, col3) GROUP BY pairs.col1"
    )
    with connection.cursor() as cursor:
        cursor.execute(median, params)
        return {pk: float(median) for pk, median in cursor.fetchall()}
