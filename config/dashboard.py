"""The admin index's dashboard: per workspace the user may see, the last 14 days (see
conversations.dashboard), failing webhook deliveries, and a warning when the service's
own periodic tasks are disabled. A fixed number of queries whatever the workspaces."""

from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from config.admin_site import VIEW
from conversations import dashboard
from core.health import beat_state
from webhooks.dashboard import deliveries_failing
from workspaces.admin import operated_workspace_ids
from workspaces.models import Workspace

CHART_HEIGHT = 100
CHART_GROUP = 30  # px per day: two bars of 10 and a gap


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    height: int
    kind: str  # in | out
    title: str


@dataclass(frozen=True)
class Label:
    x: int
    text: str


def chart(days: list[dashboard.Day]) -> dict:
    """Inline SVG geometry for messages in and out per day (no chart library)."""
    top = max([1, *(d.inbound for d in days), *(d.outbound for d in days)])
    bars, labels = [], []
    for i, day in enumerate(days):
        x = i * CHART_GROUP + 4
        for offset, kind, count in ((0, "in", day.inbound), (11, "out", day.outbound)):
            height = round(count * CHART_HEIGHT / top)
            bars.append(
                Bar(
                    x + offset,
                    CHART_HEIGHT - height,
                    height,
                    kind,
                    f"{_day(day.day)}: {count} {kind}",
                )
            )
        if (len(days) - 1 - i) % 2 == 0:  # every other day, ending with today
            labels.append(Label(x + 11, day.day.strftime("%d %b").lstrip("0")))
    return {
        "bars": bars,
        "labels": labels,
        "width": len(days) * CHART_GROUP,
        "height": CHART_HEIGHT,
        "top": top,
    }


def _day(day: date) -> str:
    return day.strftime("%a %d %b")


def dashboard_context(request: HttpRequest) -> dict:
    """Per workspace the user may see, the last 14 days; a fixed number of queries."""
    user = request.user
    if not user.has_perm(VIEW):
        return {}
    ids = operated_workspace_ids(user)
    workspaces = Workspace.objects.order_by("name").only("pk", "name")
    if ids is not None:
        workspaces = workspaces.filter(pk__in=ids)
    workspaces = list(workspaces)
    now = timezone.now()
    stats = dashboard.workspace_stats(workspace_ids=[w.pk for w in workspaces], now=now)
    failing = deliveries_failing(
        workspace_ids=[w.pk for w in workspaces], since=dashboard.window_start(now)
    )
    cards = []
    for workspace in workspaces:
        figures = stats[workspace.pk]
        figures.webhooks_failing = failing.get(workspace.pk, 0)
        cards.append({"workspace": workspace, "stats": figures, "chart": chart(figures.days)})
    beat = beat_state()
    return {
        "dashboard": cards,
        "dashboard_days": dashboard.DAYS,
        "beat_disabled": beat["disabled"],
        "beat_missing": beat["missing"],
        "periodic_tasks_url": reverse("admin:django_celery_beat_periodictask_changelist")
        if user.has_perm("django_celery_beat.view_periodictask")
        else "",
    }
