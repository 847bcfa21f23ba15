from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations.models import Conversation, DeliveryStatus, Message, Role
from conversations.services import reply_lock_is_held
from core.fields import StrictBooleanField, StrictCharField, StrictDictField
from core.serializers import FieldsCopiedOnce, StrictSerializer

# --- The conversations resource and its messages (camelCase and `_id`) -----------------


class StateSerializer(StrictSerializer):
    playbook = StrictCharField(required=False, allow_blank=True)
    phase = StrictCharField(required=False, allow_blank=True, max_length=200)
    systemMessage = StrictCharField(source="system_message", required=False, allow_blank=True)
    context = StrictDictField(required=False)


class ConversationCreateSerializer(StateSerializer):
    flowId = serializers.UUIDField(required=False)
    agentId = serializers.UUIDField(required=False)


class ConversationFilterSerializer(serializers.Serializer):
    flowId = serializers.UUIDField(required=False)
    contactId = serializers.UUIDField(required=False)


class ContactSummarySerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    channel = serializers.CharField()
    address = serializers.CharField()
    name = serializers.CharField()
    optedOut = serializers.SerializerMethodField()

    def get_optedOut(self, contact: object) -> bool:
        return contact.opted_out_at is not None


class ConversationSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    flowId = serializers.UUIDField(source="flow_id", allow_null=True)
    agentId = serializers.SerializerMethodField()
    contact = ContactSummarySerializer(allow_null=True)
    channel = serializers.CharField()
    playbook = serializers.CharField()
    phase = serializers.CharField()
    systemMessage = serializers.CharField(source="system_message")
    context = serializers.DictField()
    aiPaused = serializers.BooleanField(source="ai_paused")
    messageCount = serializers.IntegerField(source="message_count")
    replyStatus = serializers.SerializerMethodField()
    lastReplyError = serializers.CharField(source="last_reply_error")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_agentId(self, conversation: Conversation) -> str | None:
        agent_id = conversation.agent_id or (
            conversation.flow.agent_id if conversation.flow else None
        )
        return str(agent_id) if agent_id else None

    @extend_schema_field({"type": "string", "enum": ["idle", "pending", "generating"]})
    def get_replyStatus(self, conversation: Conversation) -> str:
        if reply_lock_is_held(conversation):
            return "generating"
        return "pending" if conversation.reply_due_at else "idle"


class MessageSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    conversationId = serializers.UUIDField(source="conversation_id")
    role = serializers.CharField()
    content = serializers.CharField()
    senderId = serializers.CharField(source="sender_id")
    senderType = serializers.CharField(source="sender_type")
    metadata = serializers.DictField()
    replyToId = serializers.UUIDField(source="reply_to_id", allow_null=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    sendAt = serializers.DateTimeField(source="send_at", allow_null=True)
    model = serializers.CharField(source="llm_model")
    usage = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "inputTokens": {"type": "integer", "nullable": True},
                "outputTokens": {"type": "integer", "nullable": True},
            },
        }
    )
    def get_usage(self, message: Message) -> dict | None:
        if message.input_tokens is None and message.output_tokens is None:
            return None
        return {"inputTokens": message.input_tokens, "outputTokens": message.output_tokens}


class MessageFilterSerializer(serializers.Serializer):
    """The query of GET /v1/messages; every filter is optional and they combine."""

    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        required=False,
        help_text="Delivery status, e.g. `draft` (awaiting approval) or `failed`.",
    )
    conversation = serializers.UUIDField(required=False, help_text="A conversation's `_id`.")
    flow = serializers.UUIDField(required=False, help_text="A message flow's `_id`.")
    contact = serializers.UUIDField(required=False, help_text="A contact's `_id`.")
    since = serializers.DateTimeField(
        required=False, help_text="Only messages created at or after this time (ISO 8601)."
    )


class ConversationMessageCreateSerializer(StrictSerializer):
    """The request of `POST /v1/conversations/{id}/messages`."""

    role = serializers.ChoiceField(choices=[Role.USER, Role.AGENT, Role.CONTROL])
    content = StrictCharField(required=False, allow_blank=True, default="")
    action = serializers.ChoiceField(choices=["generate-reply"], required=False)
    stateAfter = StateSerializer(required=False)
    metadata = StrictDictField(required=False)

    def validate(self, data: dict) -> dict:
        if not data.get("content", "").strip() and data["role"] != Role.CONTROL:
            raise serializers.ValidationError(
                {"content": [serializers.ErrorDetail("This field is required.", code="required")]}
            )
        return data


class ConversationMessageResultSerializer(serializers.Serializer):
    message = MessageSerializer(
        allow_null=True, help_text="Null when a control message only changed the state."
    )
    reply = MessageSerializer(allow_null=True)
    conversation = ConversationSerializer()


# --- Seed 001 (snake_case) ------------------------------------------------------------


class SendMessageSerializer(FieldsCopiedOnce, StrictSerializer):
    conversation_id = StrictCharField(required=False)
    flow_id = serializers.UUIDField(required=False)
    sender_id = StrictCharField(max_length=200)
    sender_type = serializers.ChoiceField(choices=["user", "agent", "system"])
    text = StrictCharField()
    reply_to_message_id = StrictCharField(required=False)
    metadata = StrictDictField(required=False)
    auto_reply = StrictBooleanField(required=False, default=True)


class SeedMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    sender_id = serializers.CharField()
    sender_type = serializers.CharField()
    text = serializers.CharField(source="content")
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()


class SendMessageDataSerializer(serializers.Serializer):
    conversation_id = serializers.UUIDField()
    message = SeedMessageSerializer()
    auto_reply_enqueued = serializers.BooleanField()


class SendMessageResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()
    data = SendMessageDataSerializer()


# --- Events ---------------------------------------------------------------------------


class EventSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    type = serializers.CharField()
    conversationId = serializers.UUIDField(source="conversation_id", allow_null=True)
    data = serializers.DictField()
    createdAt = serializers.DateTimeField(source="created_at")


class EventPageSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    next = serializers.IntegerField(help_text="Pass as `after` to read on.")
    hasMore = serializers.BooleanField()


class EventQuerySerializer(FieldsCopiedOnce):
    after = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1, default=0)
    type = serializers.CharField(required=False)
    conversation = serializers.UUIDField(required=False)
    wait = serializers.IntegerField(
        required=False, min_value=0, max_value=settings.EVENTS_MAX_WAIT, default=0
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)


# --- Seed 000 ---------------------------------------------------------------------------


class CustomerDetailsSerializer(serializers.Serializer):
    name = StrictCharField(required=False, allow_blank=True, max_length=200)

    def to_internal_value(self, data: object) -> dict:
        # Free-form key-value details; only `name` has a meaning of its own.
        validated = super().to_internal_value(data)
        return {**data, **validated} if isinstance(data, dict) else validated


class GenerateMetadataSerializer(serializers.Serializer):
    customerDetails = CustomerDetailsSerializer(required=False)


class GenerateMessageSerializer(StrictSerializer):
    flowId = StrictCharField()
    to = StrictCharField(max_length=320)
    metadata = GenerateMetadataSerializer(required=False)
    autopilot = StrictBooleanField(required=False, default=False)
    dynamic = StrictDictField(required=False, default=dict)


class GenerateMessageResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    conversation_id = serializers.UUIDField()
    message_id = serializers.UUIDField()
    message = serializers.CharField()
    delivery_status = serializers.ChoiceField(choices=["draft", "scheduled"])
    send_at = serializers.DateTimeField(allow_null=True)
