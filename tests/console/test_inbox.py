"""The inbox: conversations needing a person first, their counts, filters and search,
scoped to the operator's workspaces, in a bounded number of queries."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from channels.models import Channel
from conversations.models import Contact, DeliveryStatus, Message
from conversations.operator_actions import message_retry
from conversations.services import conversation_create, conversation_pause
from tests.console.conftest import agent_message, customer_message, logged_in

INBOX = reverse("admin:inbox")


def _order(response) -> list[str]:
    return re.findall(r'data-conversation="([0-9a-f-]+)"', response.content.decode())


def _quiet(side, name: str, address: str):
    """A conversation nobody needs to look at: the AI answered and it was delivered."""
    contact = Contact.objects.create(
        workspace=side.workspace, channel=Channel.SMS, address=address, name=name
    )
    conversation = conversation_create(workspace=side.workspace, flow=side.flow, contact=contact)
    customer_message(conversation, "thanks")
    agent_message(conversation, "you are welcome", status=DeliveryStatus.DELIVERED)
    return conversation


def test_the_admin_index_links_to_the_inbox(alice_client, world):
    page = alice_client.get(reverse("admin:index")).content.decode()

    assert f'href="{INBOX}"' in page
    assert ">Inbox<" in page


def test_conversations_needing_a_person_come_first_then_newest_activity(alice_client, world):
    side = world.a
    quiet_old = _quiet(side, "Quiet Old", "+14155550301")
    waiting = conversation_create(
        workspace=side.workspace,
        flow=side.flow,
        contact=Contact.objects.create(
            workspace=side.workspace, channel=Channel.SMS, address="+14155550302"
        ),
    )
    customer_message(waiting, "hello? anyone?")
    paused = _quiet(side, "Paused One", "+14155550303")
    conversation_pause(conversation=paused, by="admin:1")
    quiet_new = _quiet(side, "Quiet New", "+14155550304")

    order = _order(alice_client.get(INBOX))

    needing = {str(side.conversation.pk), str(waiting.pk), str(paused.pk)}
    assert set(order[:3]) == needing
    assert order[3:] == [str(quiet_new.pk), str(quiet_old.pk)]


def test_a_row_shows_contact_flow_channel_last_words_and_counts(alice_client, world):
    Contact.objects.filter(pk=world.a.contact.pk).update(opted_out_at=timezone.now())

    response = alice_client.get(INBOX)

    page = response.content.decode()
    row = re.search(r'<tr class="needs-person" data-conversation.*?</tr>', page, re.S).group(0)
    assert "alpha Customer" in row
    assert "+14155550101" in row
    assert "opted out" in row
    assert "alpha-flow" in row
    assert ">SMS<" in row
    assert "alpha-draft answer" in row  # the last message's first words
    assert "draft waiting" in row
    assert "failed send" in row
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "1"]  # drafts, failures


def test_a_retried_failure_no_longer_counts(alice_client, world):
    message_retry(message=world.a.failed, by="admin:1")

    response = alice_client.get(INBOX)

    conversation = response.context["rows"][0][0]
    assert conversation.failures == 0
    assert conversation.drafts == 1


def test_an_operator_sees_only_their_workspaces_conversations(alice_client, world):
    page = alice_client.get(INBOX).content.decode()

    assert str(world.a.conversation.pk) in page
    assert str(world.b.conversation.pk) not in page
    assert "bravo" not in page  # neither its contact, flow (in the filter) nor messages


def test_a_superuser_sees_every_workspace(admin_client, world):
    order = _order(admin_client.get(INBOX))

    assert {str(world.a.conversation.pk), str(world.b.conversation.pk)} <= set(order)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("attention=draft", {"draft"}),
        ("attention=failed", {"draft"}),
        ("attention=unanswered", {"waiting"}),
        ("attention=paused", {"paused"}),
        ("paused=yes", {"paused"}),
        ("paused=no", {"draft", "waiting", "email"}),
        ("channel=Email", {"email"}),
        ("q=Rivera", {"waiting"}),
        ("q=booking", {"draft"}),
        ("q=%2B14155550303", {"paused"}),
    ],
)
def test_filters_and_search(alice_client, world, query, expected):
    side = world.a
    waiting_contact = Contact.objects.create(
        workspace=side.workspace, channel=Channel.SMS, address="+14155550302", name="Dana Rivera"
    )
    waiting = conversation_create(workspace=side.workspace, flow=side.flow, contact=waiting_contact)
    customer_message(waiting, "hello? anyone?")
    paused = _quiet(side, "Paused One", "+14155550303")
    conversation_pause(conversation=paused, by="admin:1")
    email_flow = type(side.flow).objects.create(
        workspace=side.workspace,
        agent=side.flow.agent,
        name="alpha-email-flow",
        direction="bidirectional",
        prompt="p",
        initiation_message="Hi",
        message_channel=Channel.EMAIL,
    )
    email = conversation_create(
        workspace=side.workspace,
        flow=email_flow,
        contact=Contact.objects.create(
            workspace=side.workspace, channel=Channel.EMAIL, address="sam@example.com"
        ),
    )
    names = {
        str(side.conversation.pk): "draft",
        str(waiting.pk): "waiting",
        str(paused.pk): "paused",
        str(email.pk): "email",
    }

    order = _order(alice_client.get(f"{INBOX}?{query}"))

    assert {names[pk] for pk in order} == expected


def test_filter_by_flow(alice_client, world):
    other = type(world.a.flow).objects.create(
        workspace=world.a.workspace,
        agent=world.a.flow.agent,
        name="alpha-other-flow",
        direction="bidirectional",
        prompt="p",
        initiation_message="Hi",
        message_channel=Channel.SMS,
    )
    conversation = conversation_create(workspace=world.a.workspace, flow=other)

    assert _order(alice_client.get(f"{INBOX}?flow={other.pk}")) == [str(conversation.pk)]
    assert _order(alice_client.get(f"{INBOX}?flow={world.b.flow.pk}")) == []


def test_hipaa_conversations_are_found_by_address_only_and_the_page_says_so(alice_client, world):
    side = world.a
    flow = side.flow
    flow.hipaa_compliance = True
    flow.save()
    secret = conversation_create(
        workspace=side.workspace,
        flow=flow,
        contact=Contact.objects.create(
            workspace=side.workspace, channel=Channel.SMS, address="+14155550399", name="Patricia"
        ),
    )
    customer_message(secret, "my diagnosis is confidential")
    assert Message.objects.get(conversation=secret).text != "my diagnosis is confidential"

    by_text = alice_client.get(f"{INBOX}?q=diagnosis")
    by_name = alice_client.get(f"{INBOX}?q=Patricia")
    by_number = alice_client.get(f"{INBOX}?q=5550399")

    assert _order(by_text) == []
    assert _order(by_name) == []  # the name is encrypted at rest
    assert _order(by_number) == [str(secret.pk)]
    assert "HIPAA conversations is encrypted and is not searched" in by_text.content.decode()
    assert "Patricia" in by_number.content.decode()  # shown to the operator all the same


def test_the_inbox_costs_a_bounded_number_of_queries(
    alice_client, world, django_assert_max_num_queries
):
    alice_client.get(INBOX)  # warm the session and the content types
    for i in range(30):
        _quiet(world.a, f"Customer {i}", f"+1415556{i:04d}")

    with django_assert_max_num_queries(12):
        response = alice_client.get(INBOX)

    assert len(response.context["rows"]) == 31


def test_the_inbox_pages_by_fifty(alice_client, world):
    for _ in range(55):
        conversation_create(workspace=world.a.workspace, flow=world.a.flow)

    first = alice_client.get(INBOX)
    second = alice_client.get(f"{INBOX}?page=2")

    assert len(_order(first)) == 50
    assert len(_order(second)) == 6
    assert "Page 1 of 2" in first.content.decode()


def test_a_staff_user_without_the_view_permission_is_refused(client, world):
    from django.contrib.auth.models import User

    user = User.objects.create_user("nobody", password="pw-for-tests-only", is_staff=True)
    logged_in(client, user)

    assert client.get(INBOX).status_code == 403


def test_the_inbox_needs_a_staff_login(client, world):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
