"""HTTP edge for conversations, messages (seeds 001 and 002) and events. Thin: validate,
call a service, render."""

from django.db.models import Count, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from config.openapi import SEED_000_EXAMPLES, SEED_001_EXAMPLES, SEED_002_EXAMPLES
from config.pagination import NewestFirstPagination
from conversations import selectors
from conversations.delivery import message_approve, message_cancel
from conversations.models import Conversation, Message
from conversations.outbound import message_generate
from conversations.replies import conversation_post_message
from conversations.serializers import (
    ConversationCreateSerializer,
    ConversationFilterSerializer,
    ConversationMessageCreateSerializer,
    ConversationMessageResultSerializer,
    ConversationSerializer,
    EventPageSerializer,
    EventQuerySerializer,
    GenerateMessageResponseSerializer,
    GenerateMessageSerializer,
    MessageSerializer,
    SendMessageResponseSerializer,
    SendMessageSerializer,
)
from conversations.services import (
    conversation_create,
    conversation_delete,
    conversation_for_workspace,
    conversation_pause,
    conversation_resume,
    message_send,
)
from workspaces.api import WorkspaceAPIView, WorkspaceViewSetMixin

TAGS = ["Conversations"]


@extend_schema_view(
    list=extend_schema(
        summary="List conversations",
        tags=TAGS,
        parameters=[ConversationFilterSerializer, OpenApiParameter("limit", int)],
    ),
    create=extend_schema(
        summary="Create a conversation",
        tags=TAGS,
        request=ConversationCreateSerializer,
        responses={201: ConversationSerializer},
    ),
    retrieve=extend_schema(summary="Retrieve a conversation", tags=TAGS),
    destroy=extend_schema(summary="Delete a conversation and all its messages", tags=TAGS),
)
class ConversationViewSet(
    WorkspaceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Conversations: state (playbook, phase, systemMessage, context), flow and contact."""

    queryset = Conversation.objects.select_related("flow", "contact").annotate(
        message_count=Count("messages")
    )
    serializer_class = ConversationSerializer
    pagination_class = NewestFirstPagination

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        filters = ConversationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.conversations_filter(
            queryset,
            flow_id=filters.validated_data.get("flowId"),
            contact_id=filters.validated_data.get("contactId"),
        )

    def create(self, request: Request) -> Response:
        data = ConversationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        flow = selectors.flow_or_none(self.workspace, fields.pop("flowId", None))
        agent = selectors.agent_or_none(self.workspace, fields.pop("agentId", None))
        conversation = conversation_create(
            workspace=self.workspace, flow=flow, agent=agent, state=fields
        )
        conversation = selectors.conversation_detail(conversation.pk)
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Conversation) -> None:
        conversation_delete(conversation=instance)

    @extend_schema(
        summary="Pause the AI (human takeover)",
        description="The agent stays silent until resumed or the flow's takeover timeout.",
        tags=TAGS,
        request=None,
        responses=ConversationSerializer,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        conversation = conversation_pause(conversation=self.get_object(), by="api")
        return Response(ConversationSerializer(selectors.conversation_detail(conversation.pk)).data)

    @extend_schema(
        summary="Resume the AI", tags=TAGS, request=None, responses=ConversationSerializer
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        conversation = conversation_resume(conversation=self.get_object())
        return Response(ConversationSerializer(selectors.conversation_detail(conversation.pk)).data)


class OldestFirstPagination(CursorPagination):
    ordering = ("created_at", "id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class ConversationMessagesView(WorkspaceAPIView):
    """Seed 002: post a message (optionally generating the agent's reply); list them."""

    @extend_schema(
        summary="List a conversation's messages, oldest first",
        tags=TAGS,
        responses=MessageSerializer(many=True),
        parameters=[OpenApiParameter("limit", int)],
    )
    def get(self, request: Request, conversation_id: str) -> Response:
        conversation = conversation_for_workspace(
            workspace=self.workspace, conversation_id=conversation_id
        )
        paginator = OldestFirstPagination()
        page = paginator.paginate_queryset(conversation.messages.all(), request, view=self)
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a message in a conversation",
        description=(
            "Roles `user`, `agent`, `control`. `action: generate-reply` makes the agent "
            "process the conversation and returns its reply (the call blocks meanwhile). "
            "`stateAfter` sets any of playbook, phase, systemMessage and context. While a "
            "reply is being generated in the conversation, this answers 409."
        ),
        tags=TAGS,
        request=ConversationMessageCreateSerializer,
        responses={201: ConversationMessageResultSerializer},
        examples=SEED_002_EXAMPLES,
    )
    def post(self, request: Request, conversation_id: str) -> Response:
        body = ConversationMessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        conversation = conversation_for_workspace(
            workspace=self.workspace, conversation_id=conversation_id
        )
        message, reply = conversation_post_message(
            conversation=conversation,
            role=data["role"],
            content=data.get("content", ""),
            metadata=data.get("metadata"),
            state=data.get("stateAfter"),
            generate=data.get("action") == "generate-reply",
        )
        result = {
            "message": message,
            "reply": reply,
            "conversation": selectors.conversation_detail(conversation.pk),
        }
        return Response(
            ConversationMessageResultSerializer(result).data, status=status.HTTP_201_CREATED
        )


class MessageDetailView(WorkspaceAPIView):
    """Messages are immutable: only GET; PUT, PATCH and DELETE answer 405."""

    @extend_schema(summary="Retrieve a message", tags=TAGS, responses=MessageSerializer)
    def get(self, request: Request, conversation_id: str, message_id: str) -> Response:
        conversation = conversation_for_workspace(
            workspace=self.workspace, conversation_id=conversation_id
        )
        message = selectors.message_or_404(conversation, message_id)
        return Response(MessageSerializer(message).data)


class SendMessageView(WorkspaceAPIView):
    """Seed 001: send a message into an existing or new conversation."""

    @extend_schema(
        summary="Send a message",
        description=(
            "Without `conversation_id` a conversation is created (with `flow_id`, or the "
            "workspace's default flow). With `auto_reply` (default true) on a user message "
            "in a conversation with an agent, the AI reply is generated in the background "
            "and delivered as events (`GET /v1/events`)."
        ),
        tags=["Messages"],
        request=SendMessageSerializer,
        responses={201: SendMessageResponseSerializer},
        examples=SEED_001_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        body = SendMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        conversation, message, enqueued = message_send(
            workspace=self.workspace,
            conversation_id=data.get("conversation_id"),
            flow_id=data.get("flow_id"),
            sender_id=data["sender_id"],
            sender_type=data["sender_type"],
            text=data["text"],
            metadata=data.get("metadata"),
            reply_to_message_id=data.get("reply_to_message_id"),
            auto_reply=data["auto_reply"],
        )
        response = {
            "status": "success",
            "message": "Message sent successfully.",
            "data": {
                "conversation_id": conversation.pk,
                "message": message,
                "auto_reply_enqueued": enqueued,
            },
        }
        return Response(
            SendMessageResponseSerializer(response).data, status=status.HTTP_201_CREATED
        )


class EventsView(WorkspaceAPIView):
    """The workspace's events in order, after a cursor, with optional long polling."""

    @extend_schema(
        summary="List events",
        description=(
            "Events in sequence order after `after`. With `wait` (seconds, up to 30) the "
            "request is held until at least one event arrives or the time is up."
        ),
        tags=["Events"],
        parameters=[EventQuerySerializer],
        responses=EventPageSerializer,
    )
    def get(self, request: Request) -> Response:
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        events, has_more = selectors.events_after(
            workspace=self.workspace,
            after=params["after"],
            type=params.get("type"),
            conversation_id=params.get("conversation"),
            limit=params["limit"],
            wait=params["wait"],
        )
        page = {
            "results": events,
            "next": events[-1].sequence if events else params["after"],
            "hasMore": has_more,
        }
        return Response(EventPageSerializer(page).data)


class GenerateMessageView(WorkspaceAPIView):
    """Seed 000: open (or continue) the conversation for a flow and a recipient with
    the flow's initiation message."""

    @extend_schema(
        summary="Generate message",
        description=(
            "The message is the flow's `initiationMessage`, with `{{customer.name}}` and "
            "`{{dynamic.key}}` filled in. `autopilot: true` schedules it after the flow's "
            "delay and inside its working hours; false (the default) leaves a draft to "
            "approve with `POST /v1/conversations/{id}/messages/{messageId}/send`."
        ),
        tags=["Messages"],
        request=GenerateMessageSerializer,
        responses={201: GenerateMessageResponseSerializer},
        examples=SEED_000_EXAMPLES,
    )
    def post(self, request: Request) -> Response:
        body = GenerateMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        conversation, message = message_generate(
            workspace=self.workspace,
            flow_id=data["flowId"],
            to=data["to"],
            customer_details=data.get("metadata", {}).get("customerDetails", {}),
            dynamic=data["dynamic"],
            autopilot=data["autopilot"],
        )
        result = {
            "status": "success",
            "conversation_id": conversation.pk,
            "message_id": message.pk,
            "message": message.content,
            "delivery_status": message.status,
            "send_at": message.send_at,
        }
        return Response(
            GenerateMessageResponseSerializer(result).data, status=status.HTTP_201_CREATED
        )


class MessageActionView(WorkspaceAPIView):
    """POST on one message of a conversation of the workspace; subclasses say what."""

    def act(self, message: Message) -> Message:
        raise NotImplementedError

    def post(self, request: Request, conversation_id: str, message_id: str) -> Response:
        conversation = conversation_for_workspace(
            workspace=self.workspace, conversation_id=conversation_id
        )
        message = self.act(selectors.message_or_404(conversation, message_id))
        return Response(MessageSerializer(message).data)


@extend_schema_view(
    post=extend_schema(
        summary="Approve and send a draft",
        description="Scheduled by the flow's delay and working hours; 409 unless a draft.",
        tags=TAGS,
        request=None,
        responses=MessageSerializer,
    )
)
class MessageSendView(MessageActionView):
    def act(self, message: Message) -> Message:
        return message_approve(message=message)


@extend_schema_view(
    post=extend_schema(
        summary="Cancel a draft or scheduled message",
        description="409 when the message already left.",
        tags=TAGS,
        request=None,
        responses=MessageSerializer,
    )
)
class MessageCancelView(MessageActionView):
    def act(self, message: Message) -> Message:
        return message_cancel(message=message, reason="Canceled through the API.")
