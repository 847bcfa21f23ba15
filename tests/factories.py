import factory
from django.db.models import F

from agents.models import Agent
from channels.models import Channel
from conversations.models import Conversation, Message, Role
from flows.models import Direction, MessageFlow
from workspaces.models import ApiKey, Workspace
from workspaces.services import api_key_issue


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """Issued through the service; the clear-text key is left on `.raw_key`."""

    class Meta:
        model = ApiKey

    workspace = factory.SubFactory(WorkspaceFactory)
    name = "test key"
    scopes = ApiKey.Scopes.READ_WRITE

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> ApiKey:
        api_key = model_class(**kwargs)
        api_key.raw_key = api_key_issue(api_key=api_key)
        return api_key


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Agent {n}")
    instructions = "Be brief."


class MessageFlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageFlow

    workspace = factory.SubFactory(WorkspaceFactory)
    agent = factory.SubFactory(AgentFactory, workspace=factory.SelfAttribute("..workspace"))
    name = factory.Sequence(lambda n: f"Flow {n}")
    direction = Direction.BIDIRECTIONAL
    prompt = "Help the customer."
    initiation_message = "Hello!"
    message_channel = Channel.SMS


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    workspace = factory.SubFactory(WorkspaceFactory)
    agent = factory.SubFactory(AgentFactory, workspace=factory.SelfAttribute("..workspace"))


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    workspace = factory.SelfAttribute("conversation.workspace")
    role = Role.USER
    sender_type = "user"
    text = factory.Sequence(lambda n: f"Message {n}")

    @classmethod
    def _create(cls, model_class: type[Message], *args: object, **kwargs: object) -> Message:
        """As the services store a message: the conversation counts it."""
        message = super()._create(model_class, *args, **kwargs)
        Conversation.objects.filter(pk=message.conversation_id).update(
            message_count=F("message_count") + 1
        )
        return message
