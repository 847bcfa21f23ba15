"""An operator works the console in Chromium: logs in, reads the dashboard, finds the
conversation whose draft waits at the top of the inbox, reads its transcript, approves
the draft, replies as themself (the AI steps back), sees the customer's answer arrive
without reloading, and retries a failed send. An operator of another workspace sees
none of it."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from playwright.sync_api import Page, expect

from channels.models import Channel, Sender
from conversations.inbound import inbound_receive
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.services import conversation_create, message_create
from flows.models import MessageFlow
from tests.browser.conftest import ensure_operators_group
from tests.factories import AgentFactory, WorkspaceFactory
from workspaces.models import Workspace

PASSWORD = "pw-for-browser-tests"
pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Story:
    workspace: Workspace
    flow: MessageFlow
    waiting: Conversation  # the customer asked; the AI's answer waits as a draft
    quiet: Conversation  # answered and delivered; the newest activity
    failing: Conversation  # a send failed
    draft: Message
    failed: Message
    olivia: User  # operator of the workspace
    bruno: User  # operator of another workspace
    theirs: Conversation


def _operator(username: str, first_name: str, workspace: Workspace) -> User:
    user = User.objects.create_user(
        username, password=PASSWORD, is_staff=True, first_name=first_name
    )
    user.groups.add(ensure_operators_group())
    workspace.operators.add(user)
    return user


def _say(conversation, role, text, *, ago, status=DeliveryStatus.NONE, error=""):
    agent_id = str(conversation.flow.agent_id)
    message = message_create(
        conversation=conversation,
        role=role,
        text=text,
        sender_id=agent_id if role == Role.AGENT else conversation.contact.address,
        sender_type="agent" if role == Role.AGENT else "contact",
        status=status,
        llm_model="claude" if role == Role.AGENT else "",
    )
    when = timezone.now() - ago
    fields = {"created_at": when, "updated_at": when}
    if status in (DeliveryStatus.DELIVERED, DeliveryStatus.SENT, DeliveryStatus.FAILED):
        fields["sent_at"] = when + timedelta(seconds=2)
        fields["updated_at"] = when + timedelta(seconds=5)  # the provider's last word
    if error:
        fields.update(error_code="30006", error_message=error)
    Message.objects.filter(pk=message.pk).update(**fields)
    Conversation.objects.filter(pk=conversation.pk).update(updated_at=when)
    message.refresh_from_db()
    return message


def _conversation(workspace, flow, name, address):
    contact = Contact.objects.create(
        workspace=workspace, channel=Channel.SMS, address=address, name=name
    )
    return conversation_create(workspace=workspace, flow=flow, contact=contact)


def _healthy_beat() -> None:
    """The service's beat entries, enabled and ticking: no warning on the dashboard."""
    from django.conf import settings

    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        PeriodicTask.objects.create(
            name=name, task=entry["task"], interval=every, last_run_at=timezone.now()
        )


@pytest.fixture
def story(live_server) -> Story:
    _healthy_beat()
    workspace = WorkspaceFactory(name="Acme Dental")
    agent = AgentFactory(workspace=workspace, name="Ava")
    Sender.objects.create(
        workspace=workspace, channel=Channel.SMS, address="+15005550006", is_default=True
    )
    flow = MessageFlow.objects.create(
        workspace=workspace,
        agent=agent,
        name="Appointment reminders",
        direction="bidirectional",
        prompt="Help patients confirm or move their appointment.",
        initiation_message="Hi {{customer.name}}, this is Acme Dental.",
        message_channel=Channel.SMS,
        is_active=True,
    )
    h = timedelta(hours=1)
    # History for the chart: two weeks of conversations.
    for day in range(1, 14):
        past = _conversation(workspace, flow, f"Patient {day}", f"+1415555{day:04d}")
        for i in range(day % 4 + 1):
            _say(past, Role.USER, "Can I move my appointment?", ago=timedelta(days=day, hours=i))
            _say(
                past,
                Role.AGENT,
                "Of course, which day suits you?",
                ago=timedelta(days=day, hours=i) - timedelta(minutes=2),
                status=DeliveryStatus.DELIVERED,
            )
    failing = _conversation(workspace, flow, "Sam Okafor", "+14155550177")
    _say(failing, Role.USER, "Is parking available?", ago=5 * h)
    failed = _say(
        failing,
        Role.AGENT,
        "Yes, there is free parking behind the clinic.",
        ago=5 * h - timedelta(minutes=1),
        status=DeliveryStatus.FAILED,
        error="Unknown destination handset",
    )
    waiting = _conversation(workspace, flow, "Maria Lopez", "+14155550123")
    _say(
        waiting,
        Role.AGENT,
        "Hi Maria, this is Acme Dental: your cleaning is on Tuesday at 10:00.",
        ago=3 * h,
        status=DeliveryStatus.DELIVERED,
    )
    _say(waiting, Role.USER, "Can we make it Wednesday instead?", ago=2 * h)
    draft = _say(
        waiting,
        Role.AGENT,
        "Wednesday at 10:00 is free. Shall I book it for you?",
        ago=2 * h - timedelta(minutes=1),
        status=DeliveryStatus.DRAFT,
    )
    quiet = _conversation(workspace, flow, "Tom Becker", "+14155550188")
    _say(quiet, Role.USER, "Thanks, see you then!", ago=timedelta(minutes=30))
    _say(
        quiet,
        Role.AGENT,
        "See you on Friday, Tom.",
        ago=timedelta(minutes=29),
        status=DeliveryStatus.DELIVERED,
    )
    other = WorkspaceFactory(name="Beta Clinic")
    other_flow = MessageFlow.objects.create(
        workspace=other,
        agent=AgentFactory(workspace=other, name="Bea"),
        name="Beta intake",
        direction="bidirectional",
        prompt="p",
        initiation_message="Hi",
        message_channel=Channel.SMS,
        is_active=True,
    )
    theirs = _conversation(other, other_flow, "Zed Outsider", "+14155550999")
    _say(theirs, Role.USER, "Beta's secret question", ago=h)
    return Story(
        workspace=workspace,
        flow=flow,
        waiting=waiting,
        quiet=quiet,
        failing=failing,
        draft=draft,
        failed=failed,
        olivia=_operator("olivia", "Olivia", workspace),
        bruno=_operator("bruno", "Bruno", other),
        theirs=theirs,
    )


def _log_in(page: Page, base: str, user: User) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_contain_text("operator console")


def _article(page: Page, message: Message):
    return page.locator(f"#m-{message.pk}")


def test_an_operator_works_a_conversation_in_the_browser(
    page: Page, live_server, story: Story, screenshots
):
    base = live_server.url
    _log_in(page, base, story.olivia)

    # The dashboard: one card, the chart drawn.
    card = page.locator(f'.console-card[data-workspace="{story.workspace.pk}"]')
    expect(card).to_be_visible()
    expect(card.locator("svg rect.bar-in").first).to_be_attached()
    assert card.locator("svg rect.bar-in").count() == 14
    expect(page.locator(".console-beat-warning")).to_have_count(0)
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)

    # The inbox: the draft waiting comes first, although Tom's is newer.
    page.click("a.console-inbox-link")
    expect(page).to_have_url(re.compile(r"/admin/inbox/$"))
    rows = page.locator("#inbox tbody tr")
    expect(rows.first).to_contain_text("Maria Lopez")
    expect(rows.first).to_contain_text("draft waiting")
    expect(page.locator(f'tr[data-conversation="{story.quiet.pk}"]')).to_be_visible()
    page.screenshot(path=screenshots / "inbox.png", full_page=True)

    # The transcript, in order.
    rows.first.locator("a.console-contact").click()
    expect(page.locator("h1")).to_have_text("Maria Lopez")
    texts = page.locator("#transcript article .body").all_inner_texts()
    assert texts == [
        "Hi Maria, this is Acme Dental: your cleaning is on Tuesday at 10:00.",
        "Can we make it Wednesday instead?",
        "Wednesday at 10:00 is free. Shall I book it for you?",
    ]
    expect(page.locator("#transcript article.side-customer")).to_have_count(1)
    expect(_article(page, story.draft).locator(".badge-ai")).to_be_visible()
    page.screenshot(path=screenshots / "conversation-draft.png", full_page=True)

    # Approve the draft: it is scheduled.
    _article(page, story.draft).get_by_role("button", name="Approve").click()
    expect(page.locator(".messagelist")).to_contain_text("Approved")
    expect(_article(page, story.draft).locator(".status")).to_have_text("Scheduled")
    story.draft.refresh_from_db()
    assert story.draft.status == DeliveryStatus.SCHEDULED

    # Reply as a person: stored as Olivia's agent message; the AI steps back.
    page.fill("#reply-text", "Hi Maria, Olivia here: I have booked Wednesday for you.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("The AI is paused")
    mine = page.locator("#transcript article.kind-person").last
    expect(mine).to_contain_text("Olivia")
    expect(mine).to_contain_text("I have booked Wednesday")
    expect(page.get_by_role("button", name="Resume AI")).to_be_visible()
    reply = Message.objects.filter(conversation=story.waiting).latest("created_at")
    assert (reply.role, reply.sender_id) == (Role.AGENT, f"admin:{story.olivia.pk}")
    story.waiting.refresh_from_db()
    assert story.waiting.ai_paused

    # The customer answers (through the real inbound path): it appears without a reload.
    page.evaluate("window.__notReloaded = true")
    inbound_receive(
        workspace_id=story.workspace.pk,
        flow=story.flow,
        channel=Channel.SMS,
        from_address="+14155550123",
        text="Perfect, thank you!",
        provider_message_id="SM-browser-1",
    )
    expect(page.locator("#transcript article.side-customer").last).to_contain_text(
        "Perfect, thank you!"
    )
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=screenshots / "conversation.png", full_page=True)

    # Retry a failed send, from the inbox.
    page.click("a.console-inbox-link")
    page.locator(f'tr[data-conversation="{story.failing.pk}"] a.console-contact').click()
    failed = _article(page, story.failed)
    expect(failed).to_contain_text("Unknown destination handset")
    page.screenshot(path=screenshots / "failed-send.png", full_page=True)
    failed.get_by_role("button", name="Retry").click()
    expect(page.locator(".messagelist")).to_contain_text("Sending again")
    retry = page.locator("#transcript article").last
    expect(retry).to_contain_text("retry of a failed send")
    expect(retry.locator(".status")).to_have_text("Scheduled")
    expect(failed.get_by_role("button", name="Retry")).to_have_count(0)
    copy = Message.objects.get(metadata__retry_of=str(story.failed.pk))
    assert copy.status == DeliveryStatus.SCHEDULED


def test_an_operator_of_another_workspace_sees_nothing_of_it(page: Page, live_server, story: Story):
    base = live_server.url
    _log_in(page, base, story.bruno)

    expect(page.locator(".console-card")).to_have_count(1)
    expect(page.locator(".console-card h3")).to_have_text("Beta Clinic")
    assert "Acme Dental" not in page.content()

    page.goto(f"{base}/admin/inbox/")
    expect(page.locator("#inbox tbody tr")).to_have_count(1)
    expect(page.locator("#inbox tbody")).to_contain_text("Zed Outsider")
    assert "Maria" not in page.content()
    assert "Appointment reminders" not in page.content()  # not even in the flow filter

    response = page.goto(f"{base}/admin/inbox/{story.waiting.pk}/")
    assert response.status == 404
    assert "Maria" not in page.content()


def test_the_flow_form_previews_the_opening_message_as_it_is_typed(
    page: Page, live_server, story: Story, screenshots
):
    _log_in(page, live_server.url, story.olivia)

    page.goto(f"{live_server.url}/admin/flows/messageflow/{story.flow.pk}/change/")
    expect(page.locator(".flow-preview")).to_have_text("Hi Alex Sample, this is Acme Dental.")
    page.fill("#id_initiation_message", "Hello {{customer.firstName}}, see you {{dynamic.when}}!")
    expect(page.locator(".flow-preview")).to_have_text("Hello Alex, see you [when]!")
    page.locator("fieldset", has_text="Agent and prompt").screenshot(
        path=screenshots / "flow-preview.png"
    )
    expect(page.locator('input[name="working_hours_days"]')).to_have_count(7)
    page.locator("fieldset", has_text="Timing and working hours").screenshot(
        path=screenshots / "flow-hours.png"
    )
