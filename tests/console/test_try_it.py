"""'Try it': an operator chats with a flow's agent in a sandbox conversation; nothing is
sent to any channel, and the inbox and the dashboard leave it out."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from conversations.models import Conversation, DeliveryStatus, Message
from tests.factories import MessageFlowFactory


@pytest.fixture
def operator(workspace):
    user = User.objects.create_user("tess", password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    workspace.operators.add(user)
    return user


def try_url(flow) -> str:
    return reverse("admin:inbox_try_flow", args=[flow.pk])


def test_an_operator_chats_with_the_flows_agent_and_nothing_is_sent(client, operator, workspace):
    flow = MessageFlowFactory(workspace=workspace, is_active=True, autopilot=True)
    client.force_login(operator)

    first = client.post(try_url(flow), {"text": "Can I come on Friday?"})
    sandbox = Conversation.objects.get(is_sandbox=True)
    again = client.post(try_url(flow), {"text": "At ten?", "sandbox": str(sandbox.pk)})
    page = client.get(f"{try_url(flow)}?sandbox={sandbox.pk}")

    assert first.status_code == again.status_code == 302
    assert list(sandbox.messages.values_list("role", flat=True)) == [
        "user", "agent", "user", "agent",
    ]  # fmt: skip
    assert not Message.objects.exclude(
        status__in=[DeliveryStatus.NONE, DeliveryStatus.RECEIVED]
    ).exists()  # no draft, no send: nothing for any channel
    assert "At ten?" in page.content.decode()
    inbox = client.get("/admin/inbox/").content.decode()
    assert "Can I come on Friday?" not in inbox


def test_another_workspaces_flow_cannot_be_tried(client, operator, outsider):
    flow = MessageFlowFactory(workspace=outsider.workspace, is_active=True)
    client.force_login(operator)

    assert client.get(try_url(flow)).status_code == 404
    assert client.post(try_url(flow), {"text": "hi"}).status_code == 404
    assert not Conversation.objects.exists()


def test_the_flow_page_links_to_try_it(client, operator, workspace):
    flow = MessageFlowFactory(workspace=workspace)
    client.force_login(operator)

    page = client.get(f"/admin/flows/messageflow/{flow.pk}/change/").content.decode()

    assert try_url(flow) in page
