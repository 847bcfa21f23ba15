"""Big lists: the request stores the rows and answers; the campaign route takes a larger
body than the rest of the API (and only that route)."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import CampaignRecipient
from conversations.models import Message
from tests.campaigns.conftest import URL, recipients


def _csv(rows: int) -> bytes:
    lines = ["to,name,dynamic.when"]
    lines += [
        f"+1415{index:07d},Customer {index},Monday at {index % 12 + 1} PM" for index in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.postgres
def test_a_50000_row_csv_is_answered_in_under_two_seconds(api_client, flow):
    def upload(data: bytes) -> dict:
        return {
            "name": "Big",
            "flowId": str(flow.pk),
            "autopilot": "true",
            "file": SimpleUploadedFile("list.csv", data, content_type="text/csv"),
        }

    data = _csv(50_000)
    assert len(data) > 1_048_576  # over the rest of the API's limit
    # A warm process, as a server's is: the first upload of a test run imports the API,
    # the multipart parser, psycopg's COPY... (about a second).
    assert api_client.post(URL, upload(_csv(10)), format="multipart").status_code == 201
    CampaignRecipient.objects.all().delete()

    started = time.perf_counter()
    response = api_client.post(URL, upload(data), format="multipart")
    elapsed = time.perf_counter() - started

    assert response.status_code == 201, response.json()
    assert response.json()["counts"]["total"] == 50_000
    assert elapsed < 2.0, f"{elapsed:.2f} s"
    assert CampaignRecipient.objects.count() == 50_000
    assert not Message.objects.exists()
    last = CampaignRecipient.objects.get(position=50_000)
    assert last.to == "+14150049999"
    assert last.customer_details == {"name": "Customer 49999"}
    assert last.dynamic == {"when": "Monday at 8 PM"}


def test_the_campaign_route_takes_a_body_over_the_api_limit_and_no_other_route_does(
    api_client, flow, settings
):
    settings.API_MAX_BODY_BYTES = 10_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.API_MAX_BODY_BYTES_BY_PATH = {URL: 100_000}
    rows = recipients(*(f"+1415555{index:04d}" for index in range(300)))

    campaign = api_client.post(
        URL, {"name": "Mid", "flowId": str(flow.pk), "recipients": rows}, format="json"
    )
    other = api_client.post(
        "/v1/messages",
        {"text": "x" * 20_000, "sender_id": "a", "sender_type": "user"},
        format="json",
    )

    assert campaign.status_code == 201, campaign.json()
    assert campaign.json()["counts"]["total"] == 300
    assert other.status_code == 413


def test_a_campaign_body_over_its_own_limit_is_413_before_anything_runs(api_client, flow, settings):
    settings.API_MAX_BODY_BYTES_BY_PATH = {URL: 5_000}
    rows = recipients(*(f"+1415555{index:04d}" for index in range(100)))

    response = api_client.post(
        URL, {"name": "Big", "flowId": str(flow.pk), "recipients": rows}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "5000 bytes" in response.json()["message"]
