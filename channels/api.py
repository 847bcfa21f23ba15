from drf_spectacular.utils import OpenApiExample
from rest_framework.serializers import BaseSerializer

from channels.models import Sender
from channels.serializers import SenderSerializer
from channels.services import sender_create, sender_update
from core.openapi import crud_schema
from core.pagination import NewestFirstPagination
from workspaces.api import WorkspaceModelViewSet

TAGS = ["Senders"]
EXAMPLES = [
    OpenApiExample(
        "SMS sender",
        value={"channel": "SMS", "address": "+14155550123", "isDefault": True},
        request_only=True,
    ),
    OpenApiExample(
        "Email sender",
        value={"channel": "Email", "address": "care@clinic.example", "isDefault": True},
        request_only=True,
    ),
]


@crud_schema(
    "sender",
    "senders",
    TAGS,
    create={
        "description": "An address belongs to one workspace at most: a taken address is 409.",
        "examples": EXAMPLES,
    },
)
class SenderViewSet(WorkspaceModelViewSet):
    """Phone numbers, Messaging Services and email addresses a workspace sends from."""

    queryset = Sender.objects.all()
    serializer_class = SenderSerializer
    pagination_class = NewestFirstPagination
    not_found_name = "Sender"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = sender_create(
            workspace=self.workspace, data=serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = sender_update(
            sender=serializer.instance, data=serializer.validated_data
        )
