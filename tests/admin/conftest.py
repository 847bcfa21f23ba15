"""Two workspaces full of rows for the admin's tenancy tests: the owner's ("alpha") and
the outsider's ("bravo"), every string of the latter carrying a marker that must never
show on the owner's operator's pages."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from agents.models import Agent
from campaigns.models import Campaign, CampaignRecipient
from channels.models import Channel, Sender
from conversations.models import Contact, Conversation, Event, Message
from flows.models import MessageFlow
from tests.conftest import Tenant
from tests.factories import AgentFactory, ConversationFactory, MessageFactory, MessageFlowFactory
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from workspaces.models import ApiKey, Workspace

PASSWORD = "pw-for-tests-only"


@dataclass
class Rows:
    workspace: Workspace
    api_key: ApiKey
    agent: Agent
    sender: Sender
    flow: MessageFlow
    contact: Contact
    conversation: Conversation
    message: Message
    event: Event
    endpoint: WebhookEndpoint
    delivery: WebhookDelivery
    attempt: WebhookAttempt
    campaign: Campaign
    recipient: CampaignRecipient

    def markers(self) -> list[str]:
        """What tells these rows apart on a page: their texts, addresses and ids."""
        ids = [str(row.pk) for row in vars(self).values() if not isinstance(row.pk, int)]
        return [
            self.workspace.name,
            self.sender.address,
            self.contact.address,
            self.endpoint.url,
            self.api_key.prefix,
            self.campaign.name,
            self.recipient.to,
            *ids,
        ]


def _rows(tenant: Tenant, tag: str, number: str) -> Rows:
    workspace = tenant.workspace
    workspace.name = f"{tag}-workspace"
    agent = AgentFactory(workspace=workspace, name=f"{tag}-agent")
    sender = Sender.objects.create(
        workspace=workspace, channel=Channel.SMS, address=f"+1555{number}01"
    )
    flow = MessageFlowFactory(workspace=workspace, agent=agent, sender=sender, name=f"{tag}-flow")
    workspace.default_flow = flow
    workspace.save()
    contact = Contact.objects.create(
        workspace=workspace, channel=Channel.SMS, address=f"+1555{number}02", name=f"{tag}-contact"
    )
    conversation = ConversationFactory(
        workspace=workspace, agent=agent, flow=flow, contact=contact, channel=Channel.SMS
    )
    message = MessageFactory(
        conversation=conversation, text=f"{tag}-message", provider_message_id=f"{tag}-sid"
    )
    event = Event.objects.create(
        workspace=workspace, sequence=1, type=f"{tag}.event", conversation_id=conversation.pk
    )
    endpoint = WebhookEndpoint.objects.create(
        workspace=workspace, url=f"https://{tag}.example.com/hook", secret="whsec_test"
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event)
    attempt = WebhookAttempt.objects.create(
        delivery=delivery, started_at=timezone.now(), status_code=500, error=f"{tag}-error"
    )
    campaign = Campaign.objects.create(
        workspace=workspace, name=f"{tag}-campaign", flow=flow, send_at=timezone.now()
    )
    recipient = CampaignRecipient.objects.create(
        campaign=campaign,
        workspace=workspace,
        position=1,
        to=f"+1555{number}03",
        conversation=conversation,
        message=message,
        state=CampaignRecipient.State.CREATED,
    )
    return Rows(
        workspace=workspace,
        api_key=tenant.api_key,
        agent=agent,
        sender=sender,
        flow=flow,
        contact=contact,
        conversation=conversation,
        message=message,
        event=event,
        endpoint=endpoint,
        delivery=delivery,
        attempt=attempt,
        campaign=campaign,
        recipient=recipient,
    )


@dataclass
class World:
    mine: Rows
    theirs: Rows


@pytest.fixture
def world(owner: Tenant, outsider: Tenant) -> World:
    return World(mine=_rows(owner, "alpha", "0100"), theirs=_rows(outsider, "bravo", "0200"))


@pytest.fixture
def operator(owner: Tenant) -> User:
    """A staff user with no permission of their own, only the migration's group, who
    operates the owner's workspace."""
    user = User.objects.create_user("oscar", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Operators"))
    owner.workspace.operators.add(user)
    return user


@pytest.fixture
def operator_client(client, operator: User):
    assert client.login(username=operator.username, password=PASSWORD)
    return client
