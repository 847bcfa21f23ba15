"""GET /metrics: Prometheus's text format, behind METRICS_TOKEN (`Authorization: Bearer`).

Web, worker and beat run as several processes, so in-process counters would each see a
part. Everything but the HTTP request counter is therefore computed at scrape time from
what all processes share: the database (messages, replies, webhook deliveries, beat's
schedule) and the broker (queue lengths). A scrape costs a fixed number of queries
(six) whatever the traffic; windows are bounded (15 minutes, an hour) and reply latency
looks at the most recent REPLY_SAMPLE replies at most.

`messaging_http_requests_total` is the exception: counted in memory by this process, so
each web process reports its own requests since it started (Prometheus sums across
scrapes of the processes only if each is scraped; behind a load balancer a scrape sees
one process at a time). The metric names and their meaning: docs/operations.md.

Lives in config/ (the composition root) because it reads several apps' models.
"""

import hmac
import math
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from channels.models import Channel
from config.celery import QUEUES
from conversations.models import DeliveryStatus, Message, Role
from core.health import beat_state
from webhooks.models import WebhookAttempt, WebhookDelivery

WINDOW = timedelta(minutes=15)
WEBHOOK_WINDOW = timedelta(hours=1)
# Reply latency's quantiles are computed in Python over at most this many replies (the
# most recent of the window).
REPLY_SAMPLE = 1000
REPLY_QUANTILES = (0.5, 0.9)
# Send lateness buckets, seconds. The sweep runs every 2 s: most sends fall under 1 s.
LATENESS_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Per process (see the module's docstring). Registered in each scrape's registry.
HTTP_REQUESTS = Counter(
    "messaging_http_requests",
    "HTTP requests this web process answered since it started, by method and status class "
    "(per process).",
    ["method", "status"],
    registry=None,
)


class RequestCountMiddleware:
    """Counts every response by method and status class (2xx, 4xx, ...). Near the top
    of MIDDLEWARE, so 413s and error pages are counted too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(method=method, status=f"{response.status_code // 100}xx").inc()
        return response


# --- What a scrape computes -----------------------------------------------------------


def _messages_by_status() -> Metric:
    """One GROUP BY over all messages, every status and channel given (zeros too)."""
    metric = GaugeMetricFamily(
        "messaging_messages",
        "Messages by delivery status and by channel (the conversation's).",
        labels=["status", "channel"],
    )
    counts = {
        (status, channel or "none"): n
        for status, channel, n in Message.objects.order_by()
        .values_list("status", "conversation__channel")
        .annotate(n=Count("id"))
    }
    channels = sorted({*Channel.values, *(channel for _, channel in counts)})
    for status in DeliveryStatus.values:
        for channel in channels:
            metric.add_metric([status, channel], counts.get((status, channel), 0))
    return metric


def _send_lateness(now: datetime) -> Metric:
    """sent_at - send_at of the messages sent in the window, as a histogram computed in
    one query (each bucket a conditional count): exact however many there were."""
    lateness = ExpressionWrapper(F("sent_at") - F("send_at"), output_field=DurationField())
    buckets = {
        f"le_{i}": Count("id", filter=Q(lateness__lte=timedelta(seconds=bound)))
        for i, bound in enumerate(LATENESS_BUCKETS)
    }
    row = (
        Message.objects.filter(sent_at__gte=now - WINDOW, send_at__isnull=False)
        .annotate(lateness=lateness)
        .aggregate(count=Count("id"), total=Sum("lateness"), **buckets)
    )
    total = row["total"]
    return HistogramMetricFamily(
        "messaging_send_lateness_seconds",
        "Seconds from a message's send_at to its sent_at, for the messages sent in the last "
        "15 minutes (a snapshot of that window, not a running total: no rate()).",
        buckets=[
            *((str(bound), row[f"le_{i}"]) for i, bound in enumerate(LATENESS_BUCKETS)),
            ("+Inf", row["count"]),
        ],
        sum_value=total.total_seconds() if total is not None else 0.0,
    )


def _quantile(ordered: list[float], q: float) -> float:
    """Nearest rank: the smallest value at least q of the values do not exceed."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _reply_latency(now: datetime) -> Metric:
    """For each agent message of the window that answers customers: seconds since the
    first customer message it answers (the first user message after the agent's
    previous message), i.e. how long the customer waited. Agent messages answering no
    one (a flow's first message, a follow-up) are left out."""
    same_conversation = Message.objects.filter(
        conversation=OuterRef("conversation"), created_at__lt=OuterRef("created_at")
    ).order_by()
    previous_agent = same_conversation.filter(role=Role.AGENT).order_by("-created_at")
    first_waiting = same_conversation.filter(
        role=Role.USER, created_at__gt=OuterRef("previous_agent_at")
    ).order_by("created_at")
    rows = (
        Message.objects.filter(role=Role.AGENT, created_at__gte=now - WINDOW)
        .annotate(
            previous_agent_at=Coalesce(
                Subquery(previous_agent.values("created_at")[:1]),
                Value(_EPOCH),
                output_field=DateTimeField(),
            ),
            waiting_since=Subquery(first_waiting.values("created_at")[:1]),
        )
        .filter(waiting_since__isnull=False)
        .order_by("-created_at")
        .values_list("created_at", "waiting_since")[:REPLY_SAMPLE]
    )
    latencies = sorted((reply - asked).total_seconds() for reply, asked in rows)
    name = "messaging_reply_latency_seconds"
    metric = Metric(
        name,
        "Seconds from a customer's message to the agent message answering it, over the "
        f"replies of the last 15 minutes (at most the {REPLY_SAMPLE} most recent).",
        "summary",
    )
    for q in REPLY_QUANTILES:
        metric.add_sample(name, {"quantile": str(q)}, _quantile(latencies, q))
    metric.add_sample(f"{name}_count", {}, len(latencies))
    metric.add_sample(f"{name}_sum", {}, sum(latencies))
    return metric


def _webhook_failures(now: datetime) -> Iterable[Metric]:
    since = now - WEBHOOK_WINDOW
    failed = Q(status=WebhookDelivery.Status.FAILED)
    deliveries = WebhookDelivery.objects.aggregate(
        total=Count("id", filter=failed),
        recent=Count("id", filter=failed & Q(updated_at__gte=since)),
    )
    metric = GaugeMetricFamily(
        "messaging_webhook_deliveries_failed",
        "Webhook deliveries given up on (failed): all of them (window=all) and those that "
        "failed in the last hour (window=1h).",
        labels=["window"],
    )
    metric.add_metric(["all"], deliveries["total"])
    metric.add_metric(["1h"], deliveries["recent"])
    yield metric
    attempts = (
        WebhookAttempt.objects.filter(started_at__gte=since)
        .exclude(status_code__gte=200, status_code__lt=300)
        .count()
    )
    yield GaugeMetricFamily(
        "messaging_webhook_attempts_failed",
        "Webhook POSTs in the last hour answered with no 2xx (another status, or no answer).",
        value=attempts,
    )


def _beat() -> Iterable[Metric]:
    state = beat_state()
    yield GaugeMetricFamily(
        "messaging_beat_ticking",
        "1 when beat's schedule ran in the last minute (core.health.beat_state), else 0.",
        value=1 if state["ticking"] else 0,
    )
    yield GaugeMetricFamily(
        "messaging_beat_entries_disabled",
        "The service's own periodic tasks that are disabled (sends wait for them).",
        value=len(state["disabled"]),
    )
    yield GaugeMetricFamily(
        "messaging_beat_entries_missing",
        "The service's own periodic tasks not installed in beat's schedule.",
        value=len(state["missing"]),
    )


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)


def _queue_depths() -> Iterable[Metric]:
    """LLEN of each queue on a Redis broker, priority sub-queues included (kombu keeps a
    list per priority step). Messages a worker has reserved (prefetched, or waiting for
    their countdown) are not in the list. Nothing on the embedded file broker."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    prefix = options.get("global_keyprefix", "")
    steps = options.get("priority_steps", PRIORITY_STEPS)
    sep = options.get("sep", Channel.sep)
    up = GaugeMetricFamily(
        "messaging_broker_up", "1 when the Redis broker answered this scrape, else 0."
    )
    try:
        pipe = _redis(url).pipeline(transaction=False)
        for queue in QUEUES:
            for step in steps:
                pipe.llen(f"{prefix}{queue}{sep}{step}" if step else f"{prefix}{queue}")
        sizes = pipe.execute()
    except Exception:  # a down broker is something to report, not a failed scrape
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    yield up
    depth = GaugeMetricFamily(
        "messaging_queue_depth",
        "Tasks waiting in each Celery queue on the Redis broker.",
        labels=["queue"],
    )
    for i, queue in enumerate(QUEUES):
        depth.add_metric([queue], sum(sizes[i * len(steps) : (i + 1) * len(steps)]))
    yield depth


def collect(now: datetime | None = None) -> list[Metric]:
    """Every metric computed at scrape time (six queries, one Redis round trip)."""
    now = now or timezone.now()
    started = time.monotonic()
    metrics = [
        _messages_by_status(),
        _send_lateness(now),
        _reply_latency(now),
        *_webhook_failures(now),
        *_beat(),
        *_queue_depths(),
    ]
    metrics.append(
        GaugeMetricFamily(
            "messaging_metrics_scrape_seconds",
            "How long this scrape took to compute.",
            value=time.monotonic() - started,
        )
    )
    return metrics


class _Computed:
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> list[Metric]:
        return self.metrics


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Computed(collect()))
    registry.register(HTTP_REQUESTS)
    return generate_latest(registry)


# --- The view -------------------------------------------------------------------------


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


class _TextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"

    def render(
        self,
        data: object,
        accepted_media_type: str | None = None,
        renderer_context: dict | None = None,
    ) -> bytes:
        return data if isinstance(data, bytes) else str(data).encode()


class _WhateverIsAccepted(BaseContentNegotiation):
    """Prometheus asks for OpenMetrics first; the text format is what it gets, always."""

    def select_parser(self, request: HttpRequest, parsers: list) -> object:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: HttpRequest, renderers: list, format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


class MetricsView(APIView):
    """A DRF view only so that the schema documents it; no API key, no throttle: the
    metrics token is checked here."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    renderer_classes = [_TextRenderer]
    content_negotiation_class = _WhateverIsAccepted

    @extend_schema(
        summary="Prometheus metrics",
        description=(
            "Prometheus's text exposition format. Needs `Authorization: Bearer "
            "<METRICS_TOKEN>`; 404 when no METRICS_TOKEN is configured, 401 when the token "
            "is missing or wrong. The metrics: docs/operations.md, Observability."
        ),
        tags=["Health"],
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="The metrics, one sample a line."
            ),
            401: OpenApiResponse(description="No token, or not METRICS_TOKEN."),
            404: OpenApiResponse(description="METRICS_TOKEN is not configured."),
        },
        examples=[
            OpenApiExample(
                "Metrics",
                value='messaging_messages{channel="SMS",status="sent"} 42.0\n',
                media_type="text/plain",
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        token = settings.METRICS_TOKEN
        if not token:
            return HttpResponse("Not found\n", status=404, content_type="text/plain")
        if not _authorized(request, token):
            response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
