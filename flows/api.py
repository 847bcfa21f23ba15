from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from channels.models import Channel
from core.fields import StrictCharField, WorkspaceRelatedField
from core.openapi import crud_schema
from core.pagination import NewestFirstPagination
from core.serializers import StrictSerializer
from flows.models import Direction, MessageFlow
from flows.openapi import (
    FLOW,
    FLOW_EXAMPLES,
    FLOW_UPDATE,
    SEED_003_REQUEST,
    WORKSPACE_EXAMPLE,
    WORKSPACE_UPDATE_EXAMPLES,
)
from flows.serializers import MessageFlowSerializer
from flows.services import flow_create, flow_update
from workspaces.api import WorkspaceAPIView, WorkspaceModelViewSet
from workspaces.services import workspace_update

TAGS = ["Message flows"]


class FlowFilterSerializer(serializers.Serializer):
    isActive = serializers.BooleanField(required=False, allow_null=True, default=None)
    messageChannel = serializers.CharField(required=False)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)

    def validate_messageChannel(self, value: str) -> str:
        canonical = {c.lower(): c for c in Channel.values}
        if value.lower() not in canonical:
            raise serializers.ValidationError(f"Must be one of {', '.join(Channel.values)}.")
        return canonical[value.lower()]


@crud_schema(
    "message flow",
    "message flows",
    TAGS,
    example=FLOW,
    create_example=SEED_003_REQUEST,
    update_example=FLOW_UPDATE,
    list={
        "description": "Newest first, cursor-paginated.",
        "parameters": [
            OpenApiParameter("isActive", bool),
            OpenApiParameter("messageChannel", str, enum=Channel.values),
            OpenApiParameter("direction", str, enum=Direction.values),
            OpenApiParameter("limit", int, description="Page size, at most 200."),
        ],
    },
    create={"examples": FLOW_EXAMPLES},
    update={"description": "Fields left out are reset to their defaults."},
    partial_update={"description": "Only the fields given change; nested settings are merged."},
)
class MessageFlowViewSet(WorkspaceModelViewSet):
    """Message flows: which agent talks, on which channel, and when."""

    queryset = MessageFlow.objects.select_related("agent")
    serializer_class = MessageFlowSerializer
    pagination_class = NewestFirstPagination
    not_found_name = "Message flow"

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "workspace": getattr(self, "workspace", None)}

    def safely_filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action != "list":
            return queryset
        filters = FlowFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        if wanted.get("isActive") is not None:
            queryset = queryset.filter(is_active=wanted["isActive"])
        if "messageChannel" in wanted:
            queryset = queryset.filter(message_channel=wanted["messageChannel"])
        if "direction" in wanted:
            queryset = queryset.filter(direction=wanted["direction"])
        return queryset

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = flow_create(workspace=self.workspace, data=serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = flow_update(
            flow=serializer.instance,
            data=serializer.validated_data,
            replace=not serializer.partial,
        )


# --- The workspace's settings ---------------------------------------------------------
# Served from flows/ although it is the workspace's resource: `defaultFlow` names a
# MessageFlow, and workspaces/ sits below flows/ in the app order, so it cannot know one.


class WorkspaceSettingsSerializer(StrictSerializer):
    _id = serializers.UUIDField(source="id", read_only=True)
    name = StrictCharField(max_length=200, required=False)
    defaultFlow = WorkspaceRelatedField(
        MessageFlow,
        "message flow",
        source="default_flow",
        required=False,
        allow_null=True,
        help_text=(
            "The flow POST /v1/messages opens a conversation with when it gives no flow_id; "
            "null for none."
        ),
    )
    helpText = StrictCharField(
        source="help_text",
        required=False,
        allow_blank=True,
        help_text="The answer to an SMS 'HELP'; empty: the service's default.",
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class WorkspaceSettingsView(WorkspaceAPIView):
    """The API key's workspace: its name, default flow and HELP answer."""

    @extend_schema(
        summary="Retrieve the workspace",
        tags=["Workspace"],
        responses=WorkspaceSettingsSerializer,
        examples=[WORKSPACE_EXAMPLE],
    )
    def get(self, request: Request) -> Response:
        return Response(WorkspaceSettingsSerializer(self.workspace).data)

    @extend_schema(
        summary="Update the workspace",
        description=(
            "Only the fields given change. `defaultFlow` must be a flow of this workspace "
            "(or null). Unknown fields are refused."
        ),
        tags=["Workspace"],
        request=WorkspaceSettingsSerializer,
        responses=WorkspaceSettingsSerializer,
        examples=WORKSPACE_UPDATE_EXAMPLES,
    )
    def patch(self, request: Request) -> Response:
        body = WorkspaceSettingsSerializer(
            self.workspace,
            data=request.data,
            partial=True,
            context={"workspace": self.workspace},
        )
        body.is_valid(raise_exception=True)
        workspace = workspace_update(workspace=self.workspace, data=dict(body.validated_data))
        return Response(WorkspaceSettingsSerializer(workspace).data)
