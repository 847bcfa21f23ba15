"""The admin's campaigns: a progress bar and counts, each recipient's outcome, and
pause / resume / cancel, all inside the operator's workspaces (the tenancy walk of
tests/admin covers every page of both models)."""

import pytest
from django.contrib.auth.models import Group, User

from campaigns.models import Campaign, CampaignRecipient
from conversations.models import DeliveryStatus, Message
from tests.campaigns.conftest import create, recipients

CHANGELIST = "/admin/campaigns/campaign/"
PASSWORD = "pw-for-tests-only"


@pytest.fixture
def operator_client(client, owner):
    user = User.objects.create_user("ophelia", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    owner.workspace.operators.add(user)
    assert client.login(username="ophelia", password=PASSWORD)
    return client


@pytest.fixture
def campaign(api_client, flow, workers):
    rows = recipients("+14155550101", "+14155550102", "+14155550103")
    rows.append({"to": "not a number"})
    body = workers(create, api_client, flow, rows).json()
    first = Message.objects.order_by("created_at").first()
    Message.objects.filter(pk=first.pk).update(status=DeliveryStatus.DELIVERED)
    return Campaign.objects.get(pk=body["_id"])


def test_the_list_shows_each_campaign_with_a_progress_bar_and_its_counts(
    operator_client, campaign, outsider, flow
):
    theirs = Campaign.objects.create(
        workspace=outsider.workspace, name="theirs-campaign", send_at=campaign.send_at
    )

    page = operator_client.get(CHANGELIST).content.decode()

    assert "Spring" in page
    assert "width:50%" in page  # 1 delivered + 1 skipped of 4
    assert "2 of 4" in page
    assert "2 scheduled, 0 sent, 1 delivered" in page
    assert "1 skipped (0 opted out, 0 duplicates, 1 invalid addresses" in page
    assert theirs.name not in page


def test_each_recipients_outcome_is_one_click_away(operator_client, campaign):
    change = operator_client.get(f"{CHANGELIST}{campaign.pk}/change/").content.decode()
    assert f"campaign__id__exact={campaign.pk}" in change

    rows = operator_client.get(
        f"/admin/campaigns/campaignrecipient/?campaign__id__exact={campaign.pk}"
    ).content.decode()

    assert "delivered" in rows
    assert "not a number" in rows
    assert "Invalid address" in rows


def test_pause_resume_and_cancel_are_actions(
    operator_client, campaign, django_capture_on_commit_callbacks
):
    def act(action: str):
        with django_capture_on_commit_callbacks(execute=True):
            return operator_client.post(
                CHANGELIST, {"action": action, "_selected_action": [str(campaign.pk)]}, follow=True
            )

    assert "Paused 1 campaign(s)." in act("pause").content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert act("resume").status_code == 200
    campaign.refresh_from_db()
    assert campaign.status == "running"
    act("cancel")
    campaign.refresh_from_db()
    assert campaign.status == "canceled"
    assert not Message.objects.filter(status=DeliveryStatus.SCHEDULED).exists()
    warned = act("pause").content.decode()
    assert "cannot be paused" in warned


def test_operators_cannot_add_campaigns_or_change_rows_here(operator_client, campaign):
    row = CampaignRecipient.objects.filter(campaign=campaign).first()

    assert operator_client.get(f"{CHANGELIST}add/").status_code == 403
    response = operator_client.post(
        f"/admin/campaigns/campaignrecipient/{row.pk}/change/", {"to": "+14155550999"}
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.to == "+14155550101"
