"""POST /v1/api/campaigns and what follows: rows checked one by one, each good one a
seed 000 conversation and message made by the workers, counts and events as they go."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient
from conversations.models import Contact, Conversation, DeliveryStatus, Event, Message
from tests.campaigns.conftest import URL, create, recipients
from tests.factories import MessageFlowFactory


def test_a_campaign_answers_201_with_its_id_status_and_counts_and_stores_only_the_rows(
    api_client, flow, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        response = create(api_client, flow, recipients("+14155550101", "+14155550102"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["counts"]["total"] == 2
    assert body["counts"]["pending"] == 2
    assert body["counts"]["skipped"] == {
        "total": 0,
        "optedOut": 0,
        "duplicate": 0,
        "invalidAddress": 0,
        "invalidData": 0,
    }
    assert body["flowId"] == str(flow.pk)
    assert CampaignRecipient.objects.filter(campaign_id=body["_id"]).count() == 2
    # Nothing per recipient inside the request: the workers do it.
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert len(enqueued) == 1


def test_each_recipient_becomes_a_seed_000_conversation_and_a_scheduled_message(
    api_client, flow, workers
):
    body = workers(create, api_client, flow, recipients("+14155550101", "+14155550102")).json()

    campaign = Campaign.objects.get(pk=body["_id"])
    assert campaign.status == "running"
    rows = list(CampaignRecipient.objects.filter(campaign=campaign).select_related("message"))
    assert [row.state for row in rows] == ["created", "created"]
    first = rows[0].message
    assert first.content == "Hi N0, see you Monday."
    assert first.status == DeliveryStatus.SCHEDULED
    assert first.metadata == {"campaign_id": str(campaign.pk)}
    assert first.conversation.flow == flow
    assert first.conversation.context == {"dynamic": {"when": "Monday"}}
    assert Contact.objects.get(address="+14155550101").name == "N0"
    types = list(Event.objects.order_by("id").values_list("type", flat=True))
    assert types[:1] == ["campaign.started"]
    assert types.count("conversation.created") == 2
    assert types.count("message.created") == 2
    assert types.count("message.scheduled") == 2


def test_an_existing_open_conversation_is_reused(api_client, flow, workers):
    workers(create, api_client, flow, recipients("+14155550101"))
    workers(create, api_client, flow, recipients("+14155550101"))

    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 2


def test_bad_rows_are_skipped_with_their_reason_and_the_good_ones_kept(
    api_client, flow, workers, workspace
):
    Contact.objects.create(
        workspace=workspace, channel="SMS", address="+14155550109", opted_out_at=timezone.now()
    )
    rows = [
        *recipients("+14155550101"),
        {"to": "+1 (415) 555-0101"},  # the same number, written otherwise
        {"to": "sam@example.com"},  # not a phone number
        {"to": "+14155550103", "dynamic": {"when": {"day": "Monday"}}},  # not text
        "not an object",
        {"to": "+14155550104", "colour": "blue"},
        {"to": "+14155550105", "metadata": {"customerDetails": {"timezone": "Mars/Base"}}},
        {"to": "+14155550109"},  # opted out
        *recipients("+14155550106"),
    ]

    body = workers(create, api_client, flow, rows).json()

    counts = api_client.get(f"{URL}/{body['_id']}").json()["counts"]
    assert counts["total"] == 9
    assert counts["scheduled"] == 2
    assert counts["skipped"] == {
        "total": 7,
        "optedOut": 1,
        "duplicate": 1,
        "invalidAddress": 1,
        "invalidData": 4,
    }
    listed = api_client.get(f"{URL}/{body['_id']}/recipients").json()["results"]
    by_row = {item["row"]: item for item in listed}
    assert by_row[1]["outcome"] == "scheduled"
    assert by_row[1]["messageId"]
    assert by_row[1]["conversationId"]
    assert by_row[2] == {
        **by_row[2],
        "outcome": "skipped",
        "skipReason": "duplicate",
        "error": "Row 1 has the same address.",
        "messageId": None,
    }
    assert by_row[3]["skipReason"] == "invalid_address"
    assert "E.164" in by_row[3]["error"]
    assert by_row[4]["skipReason"] == "invalid_data"
    assert "dynamic.when" in by_row[4]["error"]
    assert by_row[5]["error"] == "A recipient must be an object."
    assert by_row[6]["error"] == "Field 'colour' is not recognised."
    assert "IANA" in by_row[7]["error"]
    assert by_row[8]["skipReason"] == "opted_out"
    assert by_row[9]["outcome"] == "scheduled"


def test_a_csv_upload_reads_to_name_timezone_and_dynamic_columns(api_client, flow, workers):
    csv = (
        "to,name,timezone,customer.plan,dynamic.when\n"
        "+14155550101,Sam,America/Chicago,gold,Monday\n"
        "\n"
        "+14155550102,,,,\n"
    )
    upload = {"name": "CSV", "flowId": str(flow.pk), "autopilot": "true", "file": _file(csv)}

    response = workers(api_client.post, URL, upload, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["source"] == "csv"
    messages = {
        m.conversation.contact.address: m for m in Message.objects.select_related("conversation")
    }
    assert messages["+14155550101"].content == "Hi Sam, see you Monday."
    assert messages["+14155550102"].content == "Hi there, see you soon."
    sam = Contact.objects.get(address="+14155550101")
    assert sam.metadata["customerDetails"] == {
        "name": "Sam",
        "timezone": "America/Chicago",
        "plan": "gold",
    }


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("name\nSam\n", "The header row must name a 'to' column."),
        ("to,colour\n+14155550101,blue\n", "Column 'colour' is not recognised"),
        ("", "The submitted file is empty"),
    ],
)
def test_a_csv_whose_header_is_wrong_is_400_and_nothing_is_stored(api_client, flow, csv, message):
    upload = {"name": "CSV", "flowId": str(flow.pk), "file": _file(csv)}

    response = api_client.post(URL, upload, format="multipart")

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert not Campaign.objects.exists()


def test_a_csv_row_with_too_many_cells_is_skipped_alone(api_client, flow, workers):
    csv = "to,name\n+14155550101,Sam\n+14155550102,Ana,extra\n"
    upload = {"name": "CSV", "flowId": str(flow.pk), "autopilot": "true", "file": _file(csv)}

    body = workers(api_client.post, URL, upload, format="multipart").json()

    rows = api_client.get(f"{URL}/{body['_id']}/recipients?outcome=skipped").json()["results"]
    assert [(r["row"], r["skipReason"]) for r in rows] == [(2, "invalid_data")]
    assert "3 cells" in rows[0]["error"]


def test_without_autopilot_every_message_waits_as_a_draft(api_client, flow, workers):
    body = workers(create, api_client, flow, recipients("+14155550101"), autopilot=False).json()

    counts = api_client.get(f"{URL}/{body['_id']}").json()["counts"]
    assert counts["draft"] == 1
    assert Message.objects.get().status == DeliveryStatus.DRAFT
    assert workers.send() == {}


def test_a_campaign_with_a_later_send_at_starts_then(api_client, flow, workers, monkeypatch):
    later = timezone.now() + timedelta(hours=2)
    body = workers(
        create, api_client, flow, recipients("+14155550101"), sendAt=later.isoformat()
    ).json()

    assert Campaign.objects.get(pk=body["_id"]).status == "scheduled"
    assert not Message.objects.exists()
    assert workers.tick() == 0

    monkeypatch.setattr(timezone, "now", lambda: later + timedelta(seconds=1))
    workers.tick()

    assert Campaign.objects.get(pk=body["_id"]).status == "running"
    assert Message.objects.get().send_at >= later


def test_the_flow_must_be_the_workspaces_active_outbound_one(api_client, flow, outsider):
    theirs = MessageFlowFactory(workspace=outsider.workspace, is_active=True)
    assert create(api_client, theirs, recipients("+14155550101")).status_code == 404

    flow.is_active = False
    flow.save()
    response = create(api_client, flow, recipients("+14155550101"))
    assert response.status_code == 400
    assert response.json()["code"] == "flow_inactive"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": []}, "recipients"),
        ({"recipients": {"to": "+14155550101"}}, "recipients"),
        ({"name": ""}, "name"),
        ({"autopilot": "yes"}, "autopilot"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_malformed_request_is_400_naming_the_field(api_client, flow, change, field):
    response = create(api_client, flow, recipients("+14155550101"), **change)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_list_over_the_maximum_is_400(api_client, flow, settings):
    settings.CAMPAIGN_MAX_RECIPIENTS = 2

    response = create(api_client, flow, recipients("+1415555010", "+1415555011", "+1415555012"))

    assert response.status_code == 400
    assert "at most 2 recipients" in response.json()["message"]


def test_the_same_idempotency_key_replays_the_campaign_once(api_client, flow):
    rows = recipients("+14155550101")
    first = api_client.post(
        URL,
        {"name": "X", "flowId": str(flow.pk), "recipients": rows},
        format="json",
        HTTP_IDEMPOTENCY_KEY="campaign-1",
    )
    second = api_client.post(
        URL,
        {"name": "X", "flowId": str(flow.pk), "recipients": rows},
        format="json",
        HTTP_IDEMPOTENCY_KEY="campaign-1",
    )

    assert first.status_code == second.status_code == 201
    assert second.json()["_id"] == first.json()["_id"]
    assert Campaign.objects.count() == 1


def test_list_and_retrieve_give_status_and_counts(api_client, flow, workers, outsider):
    workers(create, api_client, flow, recipients("+14155550101"))
    workers(create, api_client, flow, recipients("+14155550102", "+14155550103"))

    listed = api_client.get(URL).json()["results"]

    assert [c["counts"]["total"] for c in listed] == [2, 1]
    assert all(c["status"] == "running" for c in listed)
    assert outsider.client.get(URL).json()["results"] == []


def _file(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("list.csv", text.encode(), content_type="text/csv")
