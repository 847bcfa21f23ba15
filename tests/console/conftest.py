"""Two workspaces with conversations in every state the console shows, and their
operators: alice runs workspace A, bob runs workspace B. A viewer may only read."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, Permission, User

from channels.models import Channel
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.services import conversation_create, message_create
from flows.models import MessageFlow
from tests.factories import AgentFactory, MessageFlowFactory, WorkspaceFactory
from workspaces.models import Workspace

PASSWORD = "pw-for-tests-only"


@dataclass
class Side:
    """One workspace's rows: a conversation with a customer's question, the AI's draft
    answer and a send that failed."""

    workspace: Workspace
    flow: MessageFlow
    contact: Contact
    conversation: Conversation
    question: Message
    draft: Message
    failed: Message


def make_side(tag: str, number: str) -> Side:
    workspace = WorkspaceFactory(name=f"{tag}-workspace")
    agent = AgentFactory(workspace=workspace, name=f"{tag}-agent")
    flow = MessageFlowFactory(workspace=workspace, agent=agent, name=f"{tag}-flow", is_active=True)
    contact = Contact.objects.create(
        workspace=workspace,
        channel=Channel.SMS,
        address=f"+1415555{number}",
        name=f"{tag} Customer",
    )
    conversation = conversation_create(workspace=workspace, flow=flow, contact=contact)
    failed = agent_message(conversation, f"{tag}-earlier-offer", status=DeliveryStatus.FAILED)
    Message.objects.filter(pk=failed.pk).update(
        error_code="30006", error_message="Landline or unreachable carrier"
    )
    failed.refresh_from_db()
    question = customer_message(conversation, f"{tag}-question about my booking")
    draft = agent_message(conversation, f"{tag}-draft answer", status=DeliveryStatus.DRAFT)
    return Side(workspace, flow, contact, conversation, question, draft, failed)


def customer_message(conversation: Conversation, text: str) -> Message:
    return message_create(
        conversation=conversation,
        role=Role.USER,
        text=text,
        sender_id=conversation.contact.address if conversation.contact else "",
        sender_type="contact",
        status=DeliveryStatus.RECEIVED,
    )


def agent_message(conversation: Conversation, text: str, *, status: str) -> Message:
    agent = conversation.flow.agent
    return message_create(
        conversation=conversation,
        role=Role.AGENT,
        text=text,
        sender_id=str(agent.pk),
        sender_type="agent",
        status=status,
        llm_model="offline",
    )


@dataclass
class World:
    a: Side
    b: Side


@pytest.fixture
def world(db) -> World:
    return World(a=make_side("alpha", "0101"), b=make_side("bravo", "0202"))


def operator_of(username: str, workspace: Workspace) -> User:
    user = User.objects.create_user(
        username, password=PASSWORD, is_staff=True, first_name=username.title()
    )
    user.groups.add(Group.objects.get(name="Operators"))
    workspace.operators.add(user)
    return user


@pytest.fixture
def alice(world: World) -> User:
    return operator_of("alice", world.a.workspace)


@pytest.fixture
def bob(world: World) -> User:
    return operator_of("bob", world.b.workspace)


@pytest.fixture
def viewer(world: World) -> User:
    """Staff of workspace A who may read conversations but change nothing."""
    user = User.objects.create_user("vera", password=PASSWORD, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_conversation", "view_message", "view_contact"]
        )
    )
    world.a.workspace.operators.add(user)
    return user


def logged_in(client, user: User):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def alice_client(client, alice: User):
    return logged_in(client, alice)
