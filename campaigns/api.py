"""/v1/api/campaigns: one flow's opening message to a list (docs/api.md, Campaigns)."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient
from campaigns.openapi import (
    CAMPAIGN_EXAMPLES,
    CREATE_EXAMPLES,
    RECIPIENT_EXAMPLES,
    action_examples,
)
from campaigns.rows import rows_from_csv, rows_from_json
from campaigns.selectors import (
    OUTCOMES,
    campaign_counts,
    campaign_for_workspace,
    outcome_filter,
)
from campaigns.serializers import (
    CampaignCreateSerializer,
    CampaignRecipientSerializer,
    CampaignSerializer,
    CampaignUploadSerializer,
    RecipientFilterSerializer,
)
from core.openapi import error_responses
from core.pagination import CursorPage, NewestFirstPagination
from core.parsers import StrictJSONParser
from workspaces.api import WorkspaceViewSetMixin

TAGS = ["Campaigns"]


def render(campaign: Campaign) -> dict:
    counts = campaign_counts([campaign.pk])
    return CampaignSerializer(campaign, context={"counts": counts}).data


class RowOrderPagination(CursorPage):
    """A campaign's rows in list order."""

    ordering = "position"


def _action(summary: str, description: str, state: str) -> object:
    return extend_schema(
        summary=summary,
        description=description,
        tags=TAGS,
        request=None,
        responses={200: CampaignSerializer, **error_responses(409)},
        examples=action_examples(state),
    )


@extend_schema_view(
    list=extend_schema(
        summary="List campaigns",
        description="Newest first, each with its counts.",
        tags=TAGS,
        parameters=[OpenApiParameter("limit", int)],
        examples=CAMPAIGN_EXAMPLES,
    ),
    retrieve=extend_schema(
        summary="Retrieve a campaign",
        description="Its status and counts: every recipient once, in its current outcome.",
        tags=TAGS,
        examples=CAMPAIGN_EXAMPLES,
    ),
)
class CampaignViewSet(
    WorkspaceViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """One flow's opening message to a list of recipients, in the workers, inside each
    sender's throughput and each recipient's hours."""

    queryset = Campaign.objects.select_related("flow")
    serializer_class = CampaignSerializer
    pagination_class = NewestFirstPagination
    parser_classes = [StrictJSONParser, MultiPartParser]
    not_found_name = "Campaign"
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        counts = campaign_counts([campaign.pk for campaign in page])
        data = CampaignSerializer(page, many=True, context={"counts": counts}).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(render(self.get_object()))

    @extend_schema(
        summary="Create a campaign",
        description=(
            "The recipients as JSON (the per-recipient fields of `POST /v1/api/conversations/"
            "message/generate`) or a CSV upload "
            "(multipart `file`: columns `to`, `name`, `timezone`, `customer.<key>`, "
            "`dynamic.<key>`). The request only stores the list: each row is checked by "
            "the workers (a bad row, a duplicate address or an opted-out contact is "
            "skipped with its reason; the others are kept) and becomes a conversation "
            "and a message from `sendAt` on. Up to CAMPAIGN_MAX_RECIPIENTS rows, and "
            "CAMPAIGN_UPLOAD_MAX_BYTES (16 MiB) of body on this route."
        ),
        tags=TAGS,
        request={
            "application/json": CampaignCreateSerializer,
            "multipart/form-data": CampaignUploadSerializer,
        },
        responses={201: CampaignSerializer, **error_responses(404)},
        examples=CREATE_EXAMPLES,
    )
    def create(self, request: Request) -> Response:
        if (request.content_type or "").startswith("multipart/"):
            body = CampaignUploadSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            rows = rows_from_csv(body.validated_data["file"].read())
            source = Campaign.Source.CSV
        else:
            body = CampaignCreateSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            rows = rows_from_json(body.validated_data["recipients"])
            source = Campaign.Source.JSON
        data = body.validated_data
        campaign = services.campaign_create(
            workspace=self.workspace,
            name=data["name"],
            flow_id=data["flowId"],
            rows=rows,
            send_at=data.get("sendAt"),
            autopilot=data["autopilot"],
            source=source,
        )
        return Response(render(campaign), status=status.HTTP_201_CREATED)

    @_action(
        "Pause a campaign",
        "Nothing more leaves: messages not yet sent wait, rows not yet turned into "
        "messages wait. Pausing a paused campaign changes nothing; a completed or "
        "canceled one is 409.",
        "paused",
    )
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return Response(render(services.campaign_pause(campaign=self.get_object())))

    @_action(
        "Resume a campaign",
        "What was held leaves again, inside the hours as ever, and the rest of the list "
        "goes on. Resuming a running campaign changes nothing; a completed or canceled "
        "one is 409.",
        "running",
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return Response(render(services.campaign_resume(campaign=self.get_object())))

    @_action(
        "Cancel a campaign",
        "Every message not yet sent is canceled (each with its message.canceled event) "
        "and no more are made. What left already stays. A completed campaign is 409.",
        "canceled",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return Response(render(services.campaign_cancel(campaign=self.get_object())))


class CampaignRecipientViewSet(
    WorkspaceViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """A campaign's rows, each with its outcome, conversation and message; 404 for every
    route under another workspace's campaign."""

    queryset = CampaignRecipient.objects.select_related("message")
    serializer_class = CampaignRecipientSerializer
    pagination_class = RowOrderPagination
    not_found_name = "Campaign recipient"

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        if not getattr(self, "swagger_fake_view", False):
            self.campaign = campaign_for_workspace(
                workspace=self.workspace, campaign_id=self.kwargs["campaign_id"]
            )

    def safely_get_queryset(self, queryset: QuerySet) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return queryset
        return queryset.filter(campaign=self.campaign)

    def safely_filter_queryset(self, queryset: QuerySet) -> QuerySet:
        filters = RecipientFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        outcome = filters.validated_data.get("outcome")
        return queryset.filter(outcome_filter(outcome)) if outcome else queryset

    @extend_schema(
        summary="List a campaign's recipients",
        description=(
            "In list order, each with its outcome (`pending`, `draft`, `scheduled`, "
            "`sent`, `delivered`, `failed`, `canceled`, `skipped` with `skipReason`), "
            "and its conversation and message once it has them. `?outcome=` filters."
        ),
        tags=TAGS,
        parameters=[
            OpenApiParameter("outcome", str, enum=list(OUTCOMES)),
            OpenApiParameter("limit", int),
        ],
        examples=RECIPIENT_EXAMPLES,
    )
    def list(self, request: Request, campaign_id: str) -> Response:
        return super().list(request)
