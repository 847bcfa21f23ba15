"""The dashboard on the admin index: per workspace the operator can see, the last 14
days, in a fixed number of queries."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from conversations.dashboard import window_start, workspace_stats
from conversations.models import Contact, DeliveryStatus, Event, Message, Role
from conversations.services import conversation_create, message_create
from tests.console.conftest import make_side, operator_of
from tests.factories import WorkspaceFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

INDEX = reverse("admin:index")


def _at(message: Message, when) -> Message:
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


def _say(conversation, role, when, *, status=DeliveryStatus.NONE, sender_id=""):
    agent_id = str(conversation.flow.agent_id)
    message = message_create(
        conversation=conversation,
        role=role,
        text=f"{role} at {when}",
        sender_id=sender_id or (agent_id if role == Role.AGENT else "+14155550999"),
        sender_type="agent" if role == Role.AGENT else "contact",
        status=status,
    )
    return _at(message, when)


@pytest.fixture
def charlie(db):
    """A workspace whose figures are known exactly."""
    side = make_side("charlie", "0303")
    Message.objects.filter(conversation=side.conversation).delete()
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    c = side.conversation
    day = timedelta(days=1)
    _say(c, Role.USER, now - 20 * day)  # outside the window
    _say(c, Role.USER, now - 3 * day)
    _say(c, Role.AGENT, now - 3 * day + timedelta(seconds=120), status=DeliveryStatus.DELIVERED)
    _say(c, Role.USER, now - 2 * day)
    _say(c, Role.USER, now - 2 * day + timedelta(seconds=60))
    _say(
        c,
        Role.AGENT,
        now - 2 * day + timedelta(seconds=660),
        status=DeliveryStatus.SENT,
        sender_id="admin:1",
    )
    _say(c, Role.AGENT, now - day, status=DeliveryStatus.FAILED)
    _say(c, Role.USER, now - timedelta(hours=1))
    _say(c, Role.AGENT, now - timedelta(hours=1) - timedelta(seconds=-30), status="draft")
    Contact.objects.create(
        workspace=side.workspace,
        channel="SMS",
        address="+14155550444",
        opted_out_at=timezone.now() - day,
    )
    Contact.objects.create(
        workspace=side.workspace,
        channel="SMS",
        address="+14155550445",
        opted_out_at=timezone.now() - 20 * day,
    )
    endpoint = WebhookEndpoint.objects.create(
        workspace=side.workspace, url="https://charlie.example.com/hook", secret="whsec_x"
    )
    for i, (status, attempts) in enumerate(
        [("failed", 8), ("pending", 1), ("succeeded", 1), ("pending", 0)]
    ):
        event = Event.objects.create(workspace=side.workspace, sequence=100 + i, type="t")
        WebhookDelivery.objects.create(
            endpoint=endpoint, event=event, status=status, attempts=attempts
        )
    return side, now


def test_the_figures_of_a_workspace(charlie):
    side, now = charlie

    stats = workspace_stats(workspace_ids=[side.workspace.pk], now=now)[side.workspace.pk]

    assert (stats.inbound, stats.outbound) == (4, 3)
    assert (stats.delivered, stats.failed, stats.undelivered) == (1, 1, 0)
    assert (stats.replies_ai, stats.replies_people) == (3, 1)
    assert stats.median_reply_seconds == 120  # of 120 s, 600 s and 30 s
    assert stats.drafts_waiting == 1
    assert stats.opt_outs == 1
    by_day = {d.day: (d.inbound, d.outbound) for d in stats.days}
    assert len(stats.days) == 14
    assert stats.days[0].day == window_start(now).date()
    assert by_day[(now - timedelta(days=3)).date()] == (1, 1)
    assert by_day[(now - timedelta(days=2)).date()] == (2, 1)
    assert by_day[now.date()] == (1, 0)


def test_the_index_shows_each_workspace_with_its_chart(admin_client, charlie):
    side, _ = charlie

    page = admin_client.get(INDEX).content.decode()

    assert "charlie-workspace" in page
    assert "<svg" in page
    assert 'class="bar-in"' in page
    assert "Webhook deliveries failing" in page
    card = page.split(f'data-workspace="{side.workspace.pk}"')[1].split("</table>")[0]
    assert '<td class="console-bad">2</td>' in card  # one gave up, one is being retried
    assert "1 / 1 / 0" in card
    assert "120 s" in card


def test_an_operator_sees_only_their_workspaces(client, world):
    alice = operator_of("alice", world.a.workspace)
    client.force_login(alice)

    page = client.get(INDEX).content.decode()

    assert "alpha-workspace" in page
    assert "bravo" not in page


def test_the_dashboard_costs_the_same_for_one_workspace_or_five(
    admin_client, world, django_assert_max_num_queries
):
    admin_client.get(INDEX)
    for i in range(3):
        side = make_side(f"extra{i}", f"050{i}")
        conversation_create(workspace=side.workspace, flow=side.flow)
    WorkspaceFactory(name="empty")

    with django_assert_max_num_queries(14):
        response = admin_client.get(INDEX)

    assert len(response.context["dashboard"]) >= 6


def test_a_disabled_service_task_is_a_warning_on_the_dashboard(admin_client, world):
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    name = "dispatch-due-messages"
    assert name in settings.CELERY_BEAT_SCHEDULE
    PeriodicTask.objects.create(
        name=name, task="conversations.dispatch_due_messages", interval=every, enabled=False
    )

    page = admin_client.get(INDEX).content.decode()

    assert "Sends and replies wait" in page
    assert f"<strong>{name}</strong> are disabled" in page
