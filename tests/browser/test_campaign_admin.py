"""An operator starts a campaign in Chromium: uploads a three-row CSV (one row bad),
reads the preview (the bad row and why, each good row's message as it will be sent),
starts it, sees its page with the progress bar, then pauses and resumes it."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from campaigns.models import Campaign
from channels.models import Channel, Sender
from conversations.models import DeliveryStatus, Message
from flows.models import MessageFlow
from tests.browser.conftest import ensure_operators_group
from tests.factories import AgentFactory, WorkspaceFactory

PASSWORD = "pw-for-browser-tests"
CSV = (
    b"to,name,dynamic.when\n"
    b"+14155550123,Maria Lopez,on Tuesday\n"
    b"call me maybe,Sam Okafor,on Friday\n"
    b"+14155550177,,\n"
)
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def olivia(live_server) -> User:
    workspace = WorkspaceFactory(name="Acme Dental")
    Sender.objects.create(
        workspace=workspace,
        channel=Channel.SMS,
        address="+15005550006",
        is_default=True,
        max_per_second=1000,
    )
    MessageFlow.objects.create(
        workspace=workspace,
        agent=AgentFactory(workspace=workspace, name="Ava"),
        name="Check-up recall",
        direction="outbound",
        prompt="Help patients book their check-up.",
        initiation_message=(
            "Hi {{customer.name|there}}, your check-up is due {{dynamic.when|soon}}."
        ),
        message_channel=Channel.SMS,
        is_active=True,
    )
    user = User.objects.create_user("olivia", password=PASSWORD, is_staff=True)
    user.groups.add(ensure_operators_group())
    workspace.operators.add(user)
    return user


def test_an_operator_uploads_previews_starts_pauses_and_resumes_a_campaign(
    page: Page, live_server, olivia, celery_eager, screenshots
):
    base = live_server.url
    page.goto(f"{base}/admin/login/?next=/admin/campaigns/campaign/")
    page.fill("#id_username", olivia.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")

    page.get_by_role("link", name="Add campaign").click()
    expect(page.locator("#id_workspace")).to_have_value(str(olivia.workspaces.get().pk))
    page.fill("#id_name", "Spring recall")
    page.select_option("#id_flow", label="Check-up recall (Acme Dental)")
    page.set_input_files(
        "#id_file", files=[{"name": "recall.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    expect(page.locator("#id_autopilot")).not_to_be_checked()
    expect(page.locator(".field-file .help")).to_contain_text("dynamic.<key>")
    page.screenshot(path=screenshots / "campaign-upload.png", full_page=True)

    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-counts")).to_have_text(
        "3 in the file: 2 will get a message, 1 will be skipped"
    )
    expect(page.locator("#preview-bad tbody tr")).to_have_count(1)
    expect(page.locator("#preview-bad tbody")).to_contain_text("2Field 'to' must be an E.164")
    good = page.locator("#preview-good tbody tr")
    expect(good).to_have_count(2)
    expect(good.first).to_contain_text("Hi Maria Lopez, your check-up is due on Tuesday.")
    expect(good.last).to_contain_text("Hi there, your check-up is due soon.")
    expect(page.get_by_role("link", name="Back")).to_be_visible()
    page.screenshot(path=screenshots / "campaign-preview.png", full_page=True)
    assert not Campaign.objects.exists()

    page.get_by_role("button", name="Start campaign").click()
    expect(page.locator(".messagelist")).to_contain_text("created with 3 rows")
    expect(page.locator(".field-progress")).to_contain_text("1 of 3")
    expect(page.locator(".field-summary")).to_contain_text("2 draft")
    expect(page.locator(".field-status")).to_contain_text("Running")
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    page.screenshot(path=screenshots / "campaign-running.png", full_page=True)
    campaign = Campaign.objects.get()
    assert (campaign.source, campaign.autopilot) == ("csv", False)
    assert Message.objects.filter(status=DeliveryStatus.DRAFT).count() == 2

    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".messagelist")).to_contain_text("Paused: nothing more leaves")
    expect(page.locator(".field-status")).to_contain_text("Paused")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    page.screenshot(path=screenshots / "campaign-paused.png", full_page=True)

    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".messagelist")).to_contain_text("Resumed")
    expect(page.locator(".field-status")).to_contain_text("Running")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    campaign.refresh_from_db()
    assert campaign.status == "running"
