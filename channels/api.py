from rest_framework.serializers import BaseSerializer

from channels.models import Sender
from channels.openapi import (
    ADDRESS_TAKEN,
    NOT_OWNED,
    SENDER,
    SENDER_CREATE,
    SENDER_CREATE_EXAMPLES,
    SENDER_UPDATE,
    TWILIO_DOWN,
)
from channels.serializers import SenderSerializer
from channels.services import sender_create, sender_update
from core.openapi import crud_schema, error_responses
from workspaces.api import WorkspaceCrudViewSet

TAGS = ["Senders"]


@crud_schema(
    "sender",
    "senders",
    TAGS,
    example=SENDER,
    create_example=SENDER_CREATE,
    update_example=SENDER_UPDATE,
    create={
        "description": (
            "An address belongs to one workspace at most: a taken address is 409. It must "
            "be the service's to send from: an SMS number of its Twilio account (asked of "
            "Twilio: 503 when it does not answer), an email address on an allowed domain."
        ),
        "examples": SENDER_CREATE_EXAMPLES,
        "responses": {201: SenderSerializer, **error_responses(409, 503)},
    },
    partial_update={
        "responses": {200: SenderSerializer, **error_responses(409, 503)},
        "examples": [ADDRESS_TAKEN, NOT_OWNED, TWILIO_DOWN],
    },
)
class SenderViewSet(WorkspaceCrudViewSet):
    """Phone numbers, Messaging Services and email addresses a workspace sends from,
    each with its throughput (`maxPerSecond`), held across every worker."""

    queryset = Sender.objects.all()
    serializer_class = SenderSerializer
    not_found_name = "Sender"

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = sender_create(
            workspace=self.workspace, data=serializer.validated_data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = sender_update(
            sender=serializer.instance, data=serializer.validated_data
        )
