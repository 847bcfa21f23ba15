"""The admin's campaigns: a progress bar and counts, each recipient's outcome, and
pause / resume / cancel, all inside the operator's workspaces (the tenancy walk of
tests/admin covers every page of both models)."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign, CampaignRecipient
from conversations.models import DeliveryStatus, Message
from tests.campaigns.conftest import create, now, recipients
from tests.factories import MessageFlowFactory

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


def test_operators_cannot_change_a_campaigns_rows_here(operator_client, campaign):
    row = CampaignRecipient.objects.filter(campaign=campaign).first()

    response = operator_client.post(
        f"/admin/campaigns/campaignrecipient/{row.pk}/change/", {"to": "+14155550999"}
    )

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.to == "+14155550101"


# --- Starting a campaign: upload, preview, start --------------------------------------

ADD = f"{CHANGELIST}add/"
CSV = b"to,name,dynamic.when\n+14155550101,Ann,Monday\nnot a number,Bob,Tuesday\n+14155550103,,\n"


def _upload(client, to_flow, content: bytes = CSV, **fields):
    data = {
        "workspace": str(to_flow.workspace_id),
        "name": "Spring recall",
        "flow": str(to_flow.pk),
        "file": SimpleUploadedFile("list.csv", content, content_type="text/csv"),
        **fields,
    }
    return client.post(ADD, data)


def _start_data(preview) -> dict:
    """The preview's hidden form, as "Start campaign" posts it back."""
    form = preview.context["start_form"]
    data = {name: form[name].value() for name in ("workspace", "name", "flow", "upload")}
    data["autopilot"] = "True" if form["autopilot"].value() else "False"
    return {**data, "_start": "Start campaign"}


def _start(client, preview, workers):
    response = workers(client.post, ADD, _start_data(preview))  # the workers take it after commit
    assert response.status_code == 302
    return client.get(response.url)


def test_the_add_page_offers_the_operators_workspace_preselected_and_its_active_flows(
    operator_client, flow, outsider
):
    inactive = MessageFlowFactory(workspace=flow.workspace, name="dormant-flow", is_active=False)
    theirs = MessageFlowFactory(workspace=outsider.workspace, name="theirs-flow", is_active=True)

    response = operator_client.get(ADD)

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{flow.workspace_id}" selected>' in page
    assert flow.name in page
    assert inactive.name not in page
    assert theirs.name not in page
    assert outsider.workspace.name not in page
    assert 'type="file"' in page
    assert re.search(r'<input type="checkbox" name="autopilot"[^>]*id="id_autopilot">', page)


def test_the_preview_shows_the_counts_the_bad_rows_and_each_message_as_it_will_be_sent(
    operator_client, flow
):
    response = _upload(operator_client, flow)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<strong>3</strong> in the file: 2 will get a message, 1 will be skipped" in page
    assert "<td>2</td><td>Field &#x27;to&#x27; must be an E.164 phone number" in page
    assert "Hi Ann, see you Monday." in page
    assert "Hi there, see you soon." in page  # the placeholders' defaults
    assert "Off: every message waits as a draft for approval" in page
    assert 'value="Start campaign"' in page
    assert "Back</a>" in page
    assert not Campaign.objects.exists()


def test_start_creates_the_campaign_as_the_api_does_and_opens_its_page(
    operator_client, flow, workers
):
    preview = _upload(operator_client, flow)

    response = _start(operator_client, preview, workers)

    campaign = Campaign.objects.get()
    page = response.content.decode()
    assert response.request["PATH_INFO"] == f"{CHANGELIST}{campaign.pk}/change/"
    assert "Campaign “Spring recall” created with 3 rows" in page
    assert (campaign.source, campaign.total, campaign.autopilot) == ("csv", 3, False)
    assert campaign.status == "running"
    drafts = Message.objects.filter(status=DeliveryStatus.DRAFT).order_by("created_at")
    assert [m.text for m in drafts] == ["Hi Ann, see you Monday.", "Hi there, see you soon."]
    assert "1 of 3" in page  # the skipped row is done
    # The kept upload is gone: pressing Start again asks for the file.
    again = operator_client.post(ADD, _start_data(preview))
    assert "The upload has expired: choose the file again." in again.content.decode()
    assert Campaign.objects.count() == 1


def test_autopilot_and_send_at_reach_the_campaign(operator_client, flow, workers):
    preview = _upload(
        operator_client,
        flow,
        autopilot="on",
        send_at_0="2031-01-02",
        send_at_1="09:30:00",
    )
    assert "On: messages are sent without review" in preview.content.decode()

    assert 'name="send_at_0" value="2031-01-02"' in preview.content.decode()
    data = {**_start_data(preview), "send_at_0": "2031-01-02", "send_at_1": "09:30:00"}
    response = workers(operator_client.post, ADD, data)

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.autopilot is True
    assert campaign.send_at.year == 2031
    assert campaign.status == "scheduled"


def test_a_file_the_api_would_refuse_is_shown_on_the_file_field(operator_client, flow):
    response = _upload(operator_client, flow, content=b"to,phone\n+14155550101,555\n")

    page = response.content.decode()
    assert "Column &#x27;phone&#x27; is not recognised" in page
    assert "Please correct the error below." in page
    assert not Campaign.objects.exists()
    assert "Choose a CSV file." in operator_client.post(ADD, {"name": "x"}).content.decode()


def test_a_post_naming_another_workspaces_flow_is_refused(operator_client, flow, outsider):
    theirs = MessageFlowFactory(workspace=outsider.workspace, is_active=True, direction="outbound")

    response = _upload(operator_client, flow, flow=str(theirs.pk))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert "Start campaign" not in response.content.decode()


def test_a_flow_of_another_of_the_operators_workspaces_is_refused(operator_client, flow, outsider):
    outsider.workspace.operators.add(User.objects.get(username="ophelia"))
    other = MessageFlowFactory(workspace=outsider.workspace, is_active=True, direction="outbound")

    response = _upload(operator_client, flow, flow=str(other.pk))

    assert f"This flow is not {flow.workspace.name}" in response.content.decode()
    assert not Campaign.objects.exists()


def test_an_operator_without_the_add_permission_cannot_start_one(client, owner, flow):
    user = User.objects.create_user("viv", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    owner.workspace.operators.add(user)
    client.login(username="viv", password=PASSWORD)

    assert client.get(ADD).status_code == 403
    assert _upload(client, flow).status_code == 403


# --- A campaign's page: pause, resume, cancel -----------------------------------------


def _buttons(client, campaign) -> list[str]:
    page = client.get(f"{CHANGELIST}{campaign.pk}/change/").content.decode()
    return [label for label in ("Pause", "Resume", "Cancel campaign") if f'value="{label}"' in page]


def _press(client, campaign, step: str, workers):
    return workers(client.post, f"{CHANGELIST}{campaign.pk}/{step}/", follow=True)


def test_the_campaigns_page_offers_only_the_steps_that_apply(operator_client, campaign, workers):
    assert _buttons(operator_client, campaign) == ["Pause", "Cancel campaign"]

    paused = _press(operator_client, campaign, "pause", workers).content.decode()
    assert "Paused: nothing more leaves until you resume it." in paused
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    assert _buttons(operator_client, campaign) == ["Resume", "Cancel campaign"]

    resumed = _press(operator_client, campaign, "resume", workers).content.decode()
    assert "Resumed: what was held leaves again." in resumed
    campaign.refresh_from_db()
    assert campaign.status == "running"

    canceled = _press(operator_client, campaign, "cancel", workers).content.decode()
    assert "Canceled: no more messages are made" in canceled
    campaign.refresh_from_db()
    assert campaign.status == "canceled"
    assert _buttons(operator_client, campaign) == []


def test_a_step_that_no_longer_applies_is_an_error_message_not_a_crash(
    operator_client, campaign, workers
):
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")

    response = _press(operator_client, campaign, "pause", workers)

    assert response.status_code == 200
    assert "The campaign is completed; it cannot be paused." in response.content.decode()
    assert 'class="error"' in response.content.decode()


def test_the_steps_take_only_a_post(operator_client, campaign):
    assert operator_client.get(f"{CHANGELIST}{campaign.pk}/pause/").status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_another_workspaces_campaign_has_no_buttons_for_the_operator(
    operator_client, outsider, workers
):
    theirs = Campaign.objects.create(
        workspace=outsider.workspace, name="theirs-campaign", send_at=now()
    )

    for step in ("pause", "resume", "cancel"):
        assert _press(operator_client, theirs, step, workers).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "scheduled"


def test_a_viewer_without_the_change_permission_cannot_press_them(client, owner, campaign):
    user = User.objects.create_user("viv", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    owner.workspace.operators.add(user)
    client.login(username="viv", password=PASSWORD)

    assert _buttons(client, campaign) == []
    assert client.post(f"{CHANGELIST}{campaign.pk}/pause/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "running"


def test_a_superuser_picks_among_every_workspace(admin_client, flow, outsider):
    page = admin_client.get(ADD).content.decode()

    assert flow.workspace.name in page
    assert outsider.workspace.name in page
