"""Around the console: a webhook endpoint's secret shown once, the service's own beat
entries read-only, flow editing that helps."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from flows.admin import time_zones
from flows.models import MessageFlow
from tests.admin.forms import change_form_data
from tests.console.conftest import logged_in
from webhooks.models import WebhookEndpoint

# --- Webhook endpoints -------------------------------------------------------------------


def test_a_webhook_endpoint_added_in_the_admin_shows_its_secret_once(alice_client, world):
    url = reverse("admin:webhooks_webhookendpoint_add")

    response = alice_client.post(
        url,
        {
            "workspace": str(world.a.workspace.pk),
            "url": "https://hooks.example.com/in",
            "enabled": "on",
        },
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get(url="https://hooks.example.com/in")
    assert endpoint.secret.startswith("whsec_")
    page = response.content.decode()
    assert endpoint.secret in page
    assert "not shown again" in page
    change = alice_client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret not in change.content.decode()


# --- The service's periodic tasks ----------------------------------------------------------


@pytest.fixture
def beat_entries(db):
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    ours = PeriodicTask.objects.create(
        name="dispatch-due-messages", task="conversations.dispatch_due_messages", interval=every
    )
    theirs = PeriodicTask.objects.create(name="nightly-report", task="x.report", interval=every)
    assert ours.name in settings.CELERY_BEAT_SCHEDULE
    return ours, theirs


def _url(task, view="change"):
    return reverse(f"admin:django_celery_beat_periodictask_{view}", args=[task.pk])


def test_the_services_periodic_tasks_are_read_only(admin_client, beat_entries):
    ours, theirs = beat_entries

    page = admin_client.get(_url(ours)).content.decode()
    refused = admin_client.post(_url(ours), {"name": ours.name, "enabled": ""})
    deleted = admin_client.post(_url(ours, "delete"), {"post": "yes"})

    assert 'name="_save"' not in page
    assert refused.status_code == 403
    assert deleted.status_code == 403
    ours.refresh_from_db()
    assert ours.enabled
    assert 'name="_save"' in admin_client.get(_url(theirs)).content.decode()


def test_bulk_actions_leave_the_services_periodic_tasks_alone(admin_client, beat_entries):
    ours, theirs = beat_entries
    changelist = reverse("admin:django_celery_beat_periodictask_changelist")

    response = admin_client.post(
        changelist,
        {"action": "disable_tasks", "_selected_action": [ours.pk, theirs.pk]},
        follow=True,
    )

    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.enabled
    assert not theirs.enabled
    assert "left as they are: dispatch-due-messages" in response.content.decode()


# --- Flow editing ----------------------------------------------------------------------


def _flow_url(flow):
    return reverse("admin:flows_messageflow_change", args=[flow.pk])


def test_the_flow_form_offers_days_as_checkboxes_zones_as_a_list_and_times_in_minutes(
    alice_client, world
):
    page = alice_client.get(_flow_url(world.a.flow)).content.decode()

    assert page.count('name="working_hours_days"') == 7
    assert 'type="checkbox" name="working_hours_days" value="1"' in page
    assert 'list="id_working_hours_timezone-zones"' in page
    assert '<option value="Europe/London">' in page
    assert "America/New_York" in time_zones()
    assert 'name="working_hours_start" value="09:00"' in page


def test_ticked_days_are_saved_and_every_day_is_stored_as_empty(alice_client, world):
    flow = world.a.flow
    data = change_form_data(alice_client.get(_flow_url(flow)))

    alice_client.post(
        _flow_url(flow),
        {
            **data,
            "working_hours_days": ["1", "2", "3", "4", "5"],
            "working_hours_start": "08:30",
            "working_hours_timezone": "Europe/Paris",
        },
    )
    flow.refresh_from_db()
    assert flow.working_hours_days == [1, 2, 3, 4, 5]
    assert flow.working_hours_start == datetime.time(8, 30)
    assert flow.working_hours_timezone == "Europe/Paris"

    alice_client.post(
        _flow_url(flow), {**data, "working_hours_days": [str(d) for d in range(1, 8)]}
    )
    flow.refresh_from_db()
    assert flow.working_hours_days is None


def test_no_day_ticked_and_an_unknown_zone_are_refused(alice_client, world):
    flow = world.a.flow
    data = change_form_data(alice_client.get(_flow_url(flow)))
    data.pop("working_hours_days")

    response = alice_client.post(
        _flow_url(flow), {**data, "working_hours_timezone": "Mars/Olympus"}
    )

    errors = response.context["adminform"].form.errors
    assert "working_hours_days" in errors
    assert "working_hours_timezone" in errors


def test_the_flow_form_previews_the_initiation_message(alice_client, world):
    flow = world.a.flow
    MessageFlow.objects.filter(pk=flow.pk).update(
        initiation_message="Hi {{customer.name}}, your visit is {{dynamic.when}}. {{dynamic.x|Bye}}"
    )

    page = alice_client.get(_flow_url(flow)).content.decode()
    live = alice_client.get(
        reverse("admin:flows_messageflow_preview"), {"text": "Hello {{customer.firstName}}!"}
    )

    assert "Hi Alex Sample, your visit is [when]. Bye" in page
    assert live.json() == {"preview": "Hello Alex!", "placeholders": ["customer.firstName"]}


def test_the_preview_needs_a_flow_permission(client, world):
    from django.contrib.auth.models import User

    nobody = User.objects.create_user("nobody", password="pw-for-tests-only", is_staff=True)
    logged_in(client, nobody)

    response = client.get(reverse("admin:flows_messageflow_preview"), {"text": "x"})

    assert response.status_code == 403
