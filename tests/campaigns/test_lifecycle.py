"""A campaign's life: sent, counted, paused, resumed, canceled, completed, with its
events."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaigns_tick
from conversations.models import DeliveryStatus, Event, Message
from tests.campaigns.conftest import URL, create, recipients


def _events(type_: str) -> list[dict]:
    return list(
        Event.objects.filter(type=type_).order_by("sequence").values_list("data", flat=True)
    )


def test_a_sent_campaign_completes_with_its_counts_and_a_completed_event(api_client, flow, workers):
    body = workers(create, api_client, flow, recipients("+14155550101", "+14155550102")).json()

    outcomes = workers.send()
    workers.tick()

    assert sorted(outcomes.values()) == ["sent", "sent"]
    campaign = api_client.get(f"{URL}/{body['_id']}").json()
    assert campaign["status"] == "completed"
    assert campaign["completedAt"] is not None
    assert campaign["counts"]["sent"] == 2
    [completed] = _events("campaign.completed")
    assert completed["campaignId"] == body["_id"]
    assert completed["counts"]["sent"] == 2
    assert completed["counts"]["skipped"]["optedOut"] == 0
    listed = api_client.get(f"{URL}/{body['_id']}/recipients?outcome=sent").json()["results"]
    assert [r["row"] for r in listed] == [1, 2]
    assert all(r["sentAt"] for r in listed)


def test_progress_is_reported_when_it_changed_and_at_most_every_few_seconds(
    api_client, flow, workers, monkeypatch, settings
):
    settings.CAMPAIGN_PROGRESS_INTERVAL = 5
    workers(create, api_client, flow, recipients("+14155550101", "+14155550102"), autopilot=False)
    start = timezone.now()

    workers.tick()
    workers.tick()  # nothing changed, too soon anyway
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=2))
    message = Message.objects.first()
    Message.objects.filter(pk=message.pk).update(status=DeliveryStatus.CANCELED)
    workers.tick()  # changed, but too soon
    assert len(_events("campaign.progress")) == 1

    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=6))
    workers.tick()
    workers.tick()

    reports = _events("campaign.progress")
    assert [r["counts"]["draft"] for r in reports] == [2, 1]
    assert reports[1]["counts"]["canceled"] == 1


def test_pause_holds_every_message_not_yet_sent_and_resume_sends_them(api_client, flow, workers):
    body = workers(create, api_client, flow, recipients("+14155550101", "+14155550102")).json()

    paused = api_client.post(f"{URL}/{body['_id']}/pause")

    assert paused.status_code == 200
    assert paused.json()["status"] == "paused"
    assert paused.json()["counts"]["scheduled"] == 2
    assert set(Message.objects.values_list("status", flat=True)) == {DeliveryStatus.DRAFT}
    assert workers.send() == {}
    assert api_client.post(f"{URL}/{body['_id']}/pause").json()["status"] == "paused"

    resumed = workers(api_client.post, f"{URL}/{body['_id']}/resume")

    assert resumed.json()["status"] == "running"
    assert sorted(workers.send().values()) == ["sent", "sent"]
    types = [
        e
        for e in Event.objects.order_by("id").values_list("type", flat=True)
        if e.startswith("campaign.")
    ]
    assert types == ["campaign.started", "campaign.paused", "campaign.resumed"]


def test_rows_not_yet_made_into_messages_wait_while_paused(api_client, flow, workers, settings):
    settings.CAMPAIGN_BATCH_SIZE = 1
    response = create(api_client, flow, recipients("+14155550101", "+14155550102"))
    campaign = Campaign.objects.get(pk=response.json()["_id"])
    from campaigns.services import campaign_create_batch, campaign_prepare

    workers(campaign_prepare, campaign_id=str(campaign.pk))  # made both already (eager)
    assert Message.objects.count() == 2

    # A batch that runs while paused makes nothing.
    api_client.post(f"{URL}/{campaign.pk}/pause")
    Message.objects.all().delete()
    campaign.recipients.update(state="pending", message=None, conversation=None, held=False)
    assert campaign_create_batch(campaign_id=str(campaign.pk), first=1, last=2) == 0

    workers(api_client.post, f"{URL}/{campaign.pk}/resume")
    assert Message.objects.count() == 2


def test_cancel_stops_every_message_not_yet_sent_through_message_cancel(
    api_client, flow, workers, settings
):
    body = workers(
        create, api_client, flow, recipients("+14155550101", "+14155550102", "+14155550103")
    ).json()
    first = Message.objects.order_by("created_at").first()
    Message.objects.filter(pk=first.pk).update(status=DeliveryStatus.QUEUED)  # left already

    canceled = workers(api_client.post, f"{URL}/{body['_id']}/cancel")

    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    counts = api_client.get(f"{URL}/{body['_id']}").json()["counts"]
    assert counts["canceled"] == 2
    assert counts["sent"] == 1
    assert Event.objects.filter(type="message.canceled").count() == 2
    assert workers.send() == {}
    assert api_client.post(f"{URL}/{body['_id']}/cancel").json()["status"] == "canceled"
    assert api_client.post(f"{URL}/{body['_id']}/resume").status_code == 409


def test_a_completed_campaign_cannot_be_paused_or_canceled(api_client, flow, workers):
    body = workers(create, api_client, flow, recipients("+14155550101")).json()
    workers.send()
    workers.tick()

    for action in ("pause", "cancel"):
        response = api_client.post(f"{URL}/{body['_id']}/{action}")
        assert response.status_code == 409
        assert response.json()["message"].startswith("The campaign is completed")


def test_a_flow_deactivated_midway_pauses_the_campaign_saying_why(
    api_client, flow, settings, monkeypatch
):
    from campaigns import services

    handed_on = []
    monkeypatch.setattr(
        services.jobs, "enqueue", lambda name, args, at=None: handed_on.append(args)
    )
    settings.CAMPAIGN_BATCH_SIZE = 1
    response = create(api_client, flow, recipients("+14155550101", "+14155550102"))
    campaign_id = response.json()["_id"]
    Campaign.objects.filter(pk=campaign_id).update(prepared_at=timezone.now())
    services.campaign_start(campaign_id=campaign_id)

    assert services.campaign_create_batch(campaign_id=campaign_id, first=1, last=1) == 1
    assert handed_on == [[campaign_id, 2, 2]]  # the next batch, one at a time
    flow.is_active = False
    flow.save()
    assert services.campaign_create_batch(campaign_id=campaign_id, first=2, last=2) == 0

    campaign = api_client.get(f"{URL}/{campaign_id}").json()
    assert campaign["status"] == "paused"
    assert "not active" in campaign["statusReason"]
    assert campaign["counts"]["pending"] == 1
    assert campaign["counts"]["scheduled"] == 1


def test_batches_lost_with_the_broker_are_handed_out_again_by_the_tick(
    api_client, flow, workers, monkeypatch
):
    body = create(api_client, flow, recipients("+14155550101")).json()  # no worker ran
    from campaigns.services import campaign_prepare

    campaign_prepare(campaign_id=body["_id"])  # started; its batch task was never run
    assert not Message.objects.exists()
    later = timezone.now() + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)

    workers.tick()

    assert Message.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_campaign_is_prepared_by_the_tick_when_its_task_was_lost(owner, flow):
    from campaigns.rows import rows_from_json
    from campaigns.services import campaign_create

    campaign = campaign_create(
        workspace=owner.workspace,
        name="Lost",
        flow_id=flow.pk,
        rows=rows_from_json(recipients("+14155550101")),
        send_at=None,
        autopilot=True,
    )
    Campaign.objects.filter(pk=campaign.pk).update(created_at=timezone.now() - timedelta(minutes=1))

    from config.celery import app

    app.conf.task_always_eager = True
    try:
        campaigns_tick()
    finally:
        app.conf.task_always_eager = False

    campaign.refresh_from_db()
    assert campaign.prepared_at is not None
    assert campaign.status == "running"
