"""The admin dashboard's webhook figure: deliveries failing, per workspace."""

import uuid
from datetime import datetime

from django.db.models import Count, Q

from webhooks.models import WebhookDelivery


def deliveries_failing(*, workspace_ids: list[uuid.UUID], since: datetime) -> dict[uuid.UUID, int]:
    """Deliveries that gave up since `since`, and those being retried now (an attempt
    failed and another is due). One query for any number of workspaces."""
    failing = (
        WebhookDelivery.objects.filter(endpoint__workspace_id__in=workspace_ids)
        .filter(
            Q(status=WebhookDelivery.Status.FAILED, updated_at__gte=since)
            | Q(status=WebhookDelivery.Status.PENDING, attempts__gt=0)
        )
        .values("endpoint__workspace_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["endpoint__workspace_id"]: row["n"] for row in failing}
