"""HTTP edge for conversations, messages (seeds 001 and 002) and events. Thin: validate,
call a service, render."""

import functools

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from agents.selectors import agent_for_workspace
from conversations import resources, selectors
from conversations.models import Conversation, Message
from conversations.openapi import (
    APPROVE_EXAMPLES,
    CANCEL_EXAMPLES,
    CONVERSATION_CREATE_EXAMPLES,
    CONVERSATION_EXAMPLE,
    EVENTS_EXAMPLES,
    MESSAGE_EXAMPLE,
    MESSAGE_LIST_EXAMPLES,
    MESSAGES_EXAMPLES,
    PAUSED_EXAMPLES,
    RESUMED_EXAMPLES,
    SEED_000_EXAMPLES,
    SEED_001_EXAMPLES,
    SEED_002_EXAMPLES,
)
from conversations.outbound import message_generate
from conversations.replies import conversation_post_message
from conversations.scheduling import message_approve, message_cancel
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
    MessageFilterSerializer,
    MessageSerializer,
    SendMessageResponseSerializer,
    SendMessageSerializer,
)
from conversations.services import (
    conversation_create,
    conversation_delete,
    conversation_pause,
    conversation_resume,
    message_send,
)
from core.longpoll import long_poll_slot
from core.openapi import error_responses
from core.pagination import KeysetPagination, NewestFirstPagination
from flows.selectors import flow_for_workspace
from workspaces.api import WorkspaceAPIView, WorkspaceViewSetMixin

TAGS = ["Conversations"]


@extend_schema_view(
    list=extend_schema(
        summary="List conversations",
        tags=TAGS,
        parameters=[ConversationFilterSerializer, OpenApiParameter("limit", int)],
        examples=[CONVERSATION_EXAMPLE],
    ),
    create=extend_schema(
        summary="Create a conversation",
        tags=TAGS,
        request=ConversationCreateSerializer,
        responses={201: ConversationSerializer, **error_responses(404)},
        examples=CONVERSATION_CREATE_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="Retrieve a conversation", tags=TAGS, examples=[CONVERSATION_EXAMPLE]
    ),
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

    queryset = Conversation.objects.all()
    serializer_class = ConversationSerializer
    pagination_class = NewestFirstPagination
    not_found_name = "Conversation"

    def safely_get_queryset(self, queryset: QuerySet) -> QuerySet:
        return selectors.conversations_annotated(workspace=self.workspace)

    def safely_filter_queryset(self, queryset: QuerySet) -> QuerySet:
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
        flow_id, agent_id = fields.pop("flowId", None), fields.pop("agentId", None)
        flow = flow_for_workspace(workspace=self.workspace, flow_id=flow_id) if flow_id else None
        agent = (
            agent_for_workspace(workspace=self.workspace, agent_id=agent_id) if agent_id else None
        )
        conversation = conversation_create(
            workspace=self.workspace, flow=flow, agent=agent, state=fields
        )
        return Response(self._detail(conversation), status=status.HTTP_201_CREATED)

    def _detail(self, conversation: Conversation) -> dict:
        return ConversationSerializer(
            selectors.conversation_detail(workspace=self.workspace, conversation_id=conversation.pk)
        ).data

    def perform_destroy(self, instance: Conversation) -> None:
        conversation_delete(conversation=instance)

    @extend_schema(
        summary="Pause the AI (human takeover)",
        description="The agent stays silent until resumed or the flow's takeover timeout.",
        tags=TAGS,
        request=None,
        responses=ConversationSerializer,
        examples=PAUSED_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        conversation = conversation_pause(conversation=self.get_object(), by="api")
        return Response(self._detail(conversation))

    @extend_schema(
        summary="Resume the AI",
        tags=TAGS,
        request=None,
        responses=ConversationSerializer,
        examples=RESUMED_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        conversation = conversation_resume(conversation=self.get_object())
        return Response(self._detail(conversation))


class MessagesView(WorkspaceAPIView):
    """Seed 001's POST: send a message into an existing or new conversation. GET: the
    workspace's messages across its conversations, newest first, so drafts awaiting
    approval and failed sends can be found without walking every conversation."""

    pagination_class = NewestFirstPagination

    @extend_schema(
        summary="List messages across conversations",
        description=(
            "Newest first, cursor-paginated (`limit`, up to 200, and `cursor`: follow "
            "`next`). Filters combine: `status` (e.g. `draft` for messages awaiting "
            "approval, `failed`), `conversation`, `flow`, `contact`, and `since` (created "
            "at or after, ISO 8601). A malformed filter is a 400 naming it."
        ),
        tags=["Messages"],
        parameters=[MessageFilterSerializer],
        responses=MessageSerializer(many=True),
        examples=MESSAGES_EXAMPLES,
    )
    def get(self, request: Request) -> Response:
        query = MessageFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        messages = selectors.messages_for_workspace(
            workspace=self.workspace,
            status=params.get("status"),
            conversation_id=params.get("conversation"),
            flow_id=params.get("flow"),
            contact_id=params.get("contact"),
            since=params.get("since"),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(messages, request, view=self)
        return paginator.get_paginated_response(resources.messages(page))

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
        responses={201: SendMessageResponseSerializer, **error_responses(404, 500)},
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
        return Response(
            resources.message_sent(conversation, message, enqueued),
            status=status.HTTP_201_CREATED,
        )


class EventsView(WorkspaceAPIView):
    """The workspace's events in order, after a cursor, with optional long polling."""

    @extend_schema(
        summary="List events",
        description=(
            "Events in sequence order after `after`. With `wait` (seconds, up to 30) the "
            "request is held until at least one event arrives or the time is up. A key "
            "holds at most EVENTS_LONG_POLLS_PER_KEY waiting polls (5) and a web process "
            "EVENTS_LONG_POLLS_PER_PROCESS (20); past that a poll answers at once."
        ),
        tags=["Events"],
        parameters=[EventQuerySerializer],
        responses=EventPageSerializer,
        examples=EVENTS_EXAMPLES,
    )
    def get(self, request: Request) -> Response:
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        with long_poll_slot(str(request.auth.pk)) as may_wait:
            events, has_more = selectors.events_after(
                workspace=self.workspace,
                after=params["after"],
                type=params.get("type"),
                conversation_id=params.get("conversation"),
                limit=params["limit"],
                # Over the caps (core.longpoll) the answer comes at once: poll again.
                wait=params["wait"] if may_wait else 0,
            )
        return Response(
            resources.events_page(
                events,
                next_after=events[-1].sequence if events else params["after"],
                has_more=has_more,
            )
        )


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
        responses={201: GenerateMessageResponseSerializer, **error_responses(404)},
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


@extend_schema_view(
    list=extend_schema(
        summary="List a conversation's messages, oldest first",
        tags=TAGS,
        parameters=[OpenApiParameter("limit", int)],
        examples=MESSAGE_LIST_EXAMPLES,
    ),
    retrieve=extend_schema(summary="Retrieve a message", tags=TAGS, examples=[MESSAGE_EXAMPLE]),
)
class ConversationMessageViewSet(
    WorkspaceViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """A conversation's messages. Messages are immutable: GET and POST only
    (PUT, PATCH and DELETE answer 405); drafts are sent or canceled by their actions."""

    queryset = Message.objects.all()
    serializer_class = MessageSerializer
    pagination_class = KeysetPagination
    not_found_name = "Message"
    http_method_names = ["get", "post", "head", "options"]

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        # The parent first: a conversation of another workspace is a 404 for every
        # route under it, before anything else is read or written.
        # The list looks it up itself, and only when its page is empty.
        if not getattr(self, "swagger_fake_view", False) and self.action != "list":
            # Only a new message needs the flow, agent and contact along (the joined
            # look-up costs several times the plain one); reads need the id alone.
            find = (
                selectors.conversation_for_workspace
                if self.action == "create"
                else selectors.conversation_row
            )
            self.conversation = find(
                workspace=self.workspace, conversation_id=self.kwargs["conversation_id"]
            )

    def safely_get_queryset(self, queryset: QuerySet) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(conversation=self.conversation)

    def list(self, request: Request, conversation_id: str) -> Response:
        # As ListModelMixin, with a page from one statement built once and the rows
        # built by conversations.resources.
        page = self.paginator.paginate_keyset(
            request,
            functools.partial(
                selectors.conversation_messages_page,
                workspace=self.workspace,
                conversation_id=conversation_id,
            ),
            self._cursor_queryset,
            self,
        )
        return self.get_paginated_response(resources.messages(page))

    def _cursor_queryset(self) -> QuerySet:
        """For a cursor given before the keyset pages (time and offset): DRF's own."""
        self.conversation = selectors.conversation_row(
            workspace=self.workspace, conversation_id=self.kwargs["conversation_id"]
        )
        return self.filter_queryset(self.get_queryset())

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
        responses={201: ConversationMessageResultSerializer, **error_responses(500)},
        examples=SEED_002_EXAMPLES,
    )
    def create(self, request: Request, conversation_id: str) -> Response:
        body = ConversationMessageCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        message, reply = conversation_post_message(
            conversation=self.conversation,
            role=data["role"],
            content=data.get("content", ""),
            metadata=data.get("metadata"),
            state=data.get("stateAfter"),
            generate=data.get("action") == "generate-reply",
        )
        result = {
            "message": message,
            "reply": reply,
            "conversation": selectors.conversation_detail(
                workspace=self.workspace, conversation_id=self.conversation.pk
            ),
        }
        return Response(
            ConversationMessageResultSerializer(result).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Approve and send a draft",
        description="Scheduled by the flow's delay and working hours; 409 unless a draft.",
        tags=TAGS,
        request=None,
        responses=MessageSerializer,
        examples=APPROVE_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, conversation_id: str, pk: str) -> Response:
        return Response(MessageSerializer(message_approve(message=self.get_object())).data)

    @extend_schema(
        summary="Cancel a draft or scheduled message",
        description="409 when the message already left.",
        tags=TAGS,
        request=None,
        responses=MessageSerializer,
        examples=CANCEL_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, conversation_id: str, pk: str) -> Response:
        message = message_cancel(message=self.get_object(), reason="Canceled through the API.")
        return Response(MessageSerializer(message).data)
