from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.serializers import BaseSerializer

from channels.models import Channel
from core.openapi import crud_schema
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


@crud_schema(
    "message flow",
    "message flows",
    TAGS,
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
    update={
        "summary": "Replace a message flow",
        "description": "Fields left out are reset to their defaults.",
    },
    partial_update={"description": "Only the fields given change; nested settings are merged."},
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
