from rest_framework import serializers

from agents.models import MAX_TOKENS_LIMIT, Agent
from core.fields import StrictCharField, StrictFloatField, StrictIntegerField
from core.serializers import StrictSerializer


class AgentSerializer(StrictSerializer):
    """The API's conventions: camelCase, `_id`, `workspaceId`, ISO 8601 UTC times."""

    _id = serializers.UUIDField(source="id", read_only=True)
    workspaceId = serializers.UUIDField(source="workspace_id", read_only=True)
    name = StrictCharField(max_length=200)
    instructions = StrictCharField(required=False, allow_blank=True)
    model = StrictCharField(required=False, max_length=100)
    temperature = StrictFloatField(required=False, min_value=0.0, max_value=1.0)
    maxTokens = StrictIntegerField(
        source="max_tokens", required=False, min_value=1, max_value=MAX_TOKENS_LIMIT
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Agent
