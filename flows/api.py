from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.serializers import BaseSerializer

from channels.models import Channel
from core.pagination import NewestFirstPagination
from flows.models import Direction, MessageFlow
from flows.openapi import FLOW_EXAMPLES
from flows.serializers import MessageFlowSerializer
from flows.services import flow_create, flow_update
from workspaces.api import WorkspaceModelViewSet

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


@extend_schema_view(
    list=extend_schema(
        summary="List message flows",
        description="Newest first, cursor-paginated.",
        tags=TAGS,
        parameters=[
            OpenApiParameter("isActive", bool),
            OpenApiParameter("messageChannel", str, enum=Channel.values),
            OpenApiParameter("direction", str, enum=Direction.values),
            OpenApiParameter("limit", int, description="Page size, at most 200."),
        ],
    ),
    create=extend_schema(summary="Create a message flow", tags=TAGS, examples=FLOW_EXAMPLES),
    retrieve=extend_schema(summary="Retrieve a message flow", tags=TAGS),
    update=extend_schema(
        summary="Replace a message flow",
        description="Fields left out are reset to their defaults.",
        tags=TAGS,
    ),
    partial_update=extend_schema(
        summary="Update a message flow",
        description="Only the fields given change; nested settings are merged.",
        tags=TAGS,
    ),
    destroy=extend_schema(summary="Delete a message flow", tags=TAGS),
)
class MessageFlowViewSet(WorkspaceModelViewSet):
    """Message flows (seed 003): which agent talks, on which channel, and when."""

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
