"""/v1/webhooks: the endpoints a workspace's events are pushed to (docs/webhooks.md)."""

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from core.fields import StrictBooleanField, StrictCharField
from core.lookups import get_in_workspace
from core.openapi import crud_schema, error_responses
from core.pagination import NewestFirstPagination
from core.serializers import StrictSerializer
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.openapi import (
    DELIVERY_LIST,
    DELIVERY_RETRY,
    ENDPOINT,
    ENDPOINT_CREATE,
    ENDPOINT_CREATE_EXAMPLES,
    ENDPOINT_UPDATE,
    ROTATED,
)
from webhooks.transport import UnsafeTarget, url_check
from workspaces.api import WorkspaceCrudViewSet, WorkspaceViewSetMixin

TAGS = ["Webhooks"]


class WebhookEndpointSerializer(StrictSerializer):
    _id = serializers.UUIDField(source="id", read_only=True)
    url = StrictCharField(max_length=2048)
    eventTypes = serializers.ListField(
        source="event_types",
        child=StrictCharField(max_length=64),
        required=False,
        max_length=100,
        help_text="Event types to receive; empty (the default) means every type.",
    )
    enabled = StrictBooleanField(required=False)
    description = StrictCharField(required=False, allow_blank=True, max_length=500)
    disabledReason = serializers.CharField(source="disabled_reason", read_only=True)
    lastSuccessAt = serializers.DateTimeField(
        source="last_success_at", read_only=True, allow_null=True
    )
    failingSince = serializers.DateTimeField(
        source="failing_since", read_only=True, allow_null=True
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)

    def validate_url(self, value: str) -> str:
        try:
            url_check(value)
        except UnsafeTarget as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_eventTypes(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """Only the create and rotate answers carry the secret: it is shown once."""

    secret = serializers.CharField(read_only=True, help_text="whsec_…; shown only here.")


class WebhookAttemptSerializer(serializers.Serializer):
    startedAt = serializers.DateTimeField(source="started_at")
    statusCode = serializers.IntegerField(source="status_code", allow_null=True)
    latencyMs = serializers.IntegerField(source="latency_ms")
    responseBody = serializers.CharField(source="response_body", help_text="First 1 KB.")
    error = serializers.CharField()


class WebhookDeliverySerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id", help_text="Sent as the webhook-id header.")
    eventType = serializers.CharField(source="event.type")
    sequence = serializers.IntegerField(source="event.sequence")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    attemptLog = WebhookAttemptSerializer(source="attempt_log", many=True)


@crud_schema(
    "webhook endpoint",
    "webhook endpoints",
    TAGS,
    example=ENDPOINT,
    create_example=ENDPOINT_CREATE,
    update_example=ENDPOINT_UPDATE,
    create={
        "summary": "Register a webhook endpoint",
        "description": (
            "The URL must use https and resolve to a public address. The answer carries "
            "the signing secret, which is not shown again."
        ),
        "examples": ENDPOINT_CREATE_EXAMPLES,
        "responses": {201: WebhookEndpointWithSecretSerializer},
    },
)
class WebhookEndpointViewSet(WorkspaceCrudViewSet):
    """Endpoints that receive the workspace's events, signed per Standard Webhooks."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    not_found_name = "Webhook endpoint"
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = WebhookEndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(
            workspace=self.workspace, data=serializer.validated_data
        )
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.webhook_endpoint_update(
            endpoint=serializer.instance, data=serializer.validated_data
        )

    @extend_schema(
        summary="Rotate the signing secret",
        description=(
            "A new secret, shown once. For 24 hours deliveries carry signatures made with "
            "the old and the new secret."
        ),
        tags=TAGS,
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer},
        examples=ROTATED,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        endpoint = services.webhook_secret_rotate(endpoint=self.get_object())
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


class WebhookDeliveryViewSet(WorkspaceViewSetMixin, viewsets.GenericViewSet):
    """An endpoint's deliveries, each with its attempts; scoped through the endpoint's
    workspace, and 404 for every route under an endpoint of another workspace."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    pagination_class = NewestFirstPagination
    workspace_field = "endpoint__workspace"
    not_found_name = "Webhook delivery"
    lookup_url_kwarg = "delivery_id"
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.endpoint = get_in_workspace(
                WebhookEndpoint.objects.all(),
                workspace=self.workspace,
                pk=self.kwargs["endpoint_id"],
                what="Webhook endpoint",
            )

    def safely_get_queryset(self, queryset: QuerySet) -> QuerySet:
        if not getattr(self, "swagger_fake_view", False):
            queryset = queryset.filter(endpoint=self.endpoint)
        return queryset.select_related("event", "endpoint").prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("-started_at"))
        )

    @extend_schema(
        summary="List deliveries and their attempts",
        description="Newest first; each attempt with its time, status code, latency and "
        "the first 1 KB of the answer.",
        tags=TAGS,
        responses={200: WebhookDeliverySerializer(many=True)},
        examples=DELIVERY_LIST,
    )
    def list(self, request: Request, endpoint_id: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Retry a delivery now",
        description="One more attempt, whatever the delivery's state; 409 when the endpoint "
        "is disabled or the delivery is being attempted right now.",
        tags=TAGS,
        request=None,
        responses={202: WebhookDeliverySerializer, **error_responses(409)},
        examples=DELIVERY_RETRY,
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, endpoint_id: str, delivery_id: str) -> Response:
        delivery = services.webhook_delivery_retry(delivery=self.get_object())
        delivery = self.get_queryset().get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
