"""Outbound webhooks: every event of a workspace POSTed to its endpoints, signed per the
Standard Webhooks specification (https://www.standardwebhooks.com), retried for a day,
never aimed at our own network.

Flow: `conversations.events` sends `events_committed` once an event commits, and
`webhooks_events_committed` (connected in WebhooksConfig.ready) takes it: when the workspace
has an enabled endpoint it enqueues `webhooks.fan_out`, which writes one WebhookDelivery
per matching endpoint and enqueues `webhooks.deliver` for each. A delivery is claimed by
one conditional UPDATE (a lease), so two workers holding the same task make one POST.
Retries are rows with `next_attempt_at`; short waits are task countdowns, long ones are
picked up by `webhooks.sweep`, which also rescues deliveries whose task was lost.
"""

import contextlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from conversations.events import event_record, events_sequence
from conversations.models import Event
from conversations.payloads import iso
from core import jobs, prefetch
from core.db import cache_backend, redis_client
from core.errors import Conflict
from core.models import update_fields
from core.retry import backoff, nominal_delay
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.signing import ROTATION_OVERLAP, payload_body, secret_generate, signed_headers
from webhooks.transport import CONNECT_TIMEOUT, TOTAL_TIMEOUT, PostResult, http_post
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# A claim outlives one attempt (all timeouts and the bookkeeping); a lapsed claim means
# the worker died, and the sweep hands the delivery on.
LEASE = timedelta(seconds=TOTAL_TIMEOUT + CONNECT_TIMEOUT + 30)

# Retry schedule: 5 s after the first failure, doubling (10 s, 20 s, ... 2 h 50 min), then
# every 3 h, each wait with ±20 % jitter, for as long as the next attempt falls within
# 24 h of the event: about 19 attempts. Then the delivery is failed.
FIRST_RETRY = 5.0
MAX_RETRY_DELAY = 3 * 3600.0
RETRY_WINDOW = timedelta(hours=24)
JITTER = 0.2
# An endpoint failing this long without a single success is disabled.
DISABLE_AFTER = timedelta(days=5)

SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 1000


# --- Endpoints ------------------------------------------------------------------------


def webhook_endpoint_create(*, workspace: Workspace, data: dict) -> WebhookEndpoint:
    """`data` is validated (the URL checked by the serializer)."""
    return WebhookEndpoint.objects.create(
        workspace=workspace,
        url=data["url"],
        event_types=data.get("event_types", []),
        enabled=data.get("enabled", True),
        description=data.get("description", ""),
        disabled_reason=""
        if data.get("enabled", True)
        else WebhookEndpoint.DisabledReason.BY_CLIENT,
        secret=secret_generate(),
    )


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    changed = update_fields(
        endpoint, {k: data[k] for k in ("url", "event_types", "description") if k in data}
    )
    if "enabled" in data and data["enabled"] != endpoint.enabled:
        endpoint.enabled = data["enabled"]
        # Re-enabling starts the 5-day failure clock afresh.
        endpoint.disabled_reason = (
            "" if endpoint.enabled else WebhookEndpoint.DisabledReason.BY_CLIENT
        )
        endpoint.failing_since = None
        changed += ["enabled", "disabled_reason", "failing_since"]
    # Only what the client changed: workers write last_success_at, failing_since and
    # enabled (auto-disable) concurrently, and a whole-row save would undo them.
    endpoint.save(update_fields=[*changed, "updated_at"])
    return endpoint


def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one keeps signing too for ROTATION_OVERLAP, so a consumer can
    switch without missing a delivery."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret_generate()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint


@transaction.atomic
def _endpoint_disable(*, endpoint_id: uuid.UUID, reason: str) -> None:
    disabled = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).update(
        enabled=False, disabled_reason=reason, updated_at=timezone.now()
    )
    if not disabled:
        return  # already disabled, by someone else
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    logger.warning("Webhook endpoint %s disabled: %s", endpoint_id, reason)
    event_record(
        workspace_id=endpoint.workspace_id,
        type="webhook_endpoint.disabled",
        data={
            "webhookId": str(endpoint.pk),
            "url": endpoint.url,
            "reason": reason,
            "lastSuccessAt": iso(endpoint.last_success_at),
        },
    )


# --- Fan-out --------------------------------------------------------------------------


# Whether a workspace has an enabled endpoint is asked after every committed event, most
# often about workspaces that have none; the answer is kept in the shared cache (Redis in
# production), so the API's hot path sends no query for it, and an API request reads it
# with its rate limit, in one round trip (core.prefetch): an endpoint saved while a
# request is under way may miss that request's events. Every save or delete of an
# endpoint, however it is made (API, admin, shell), replaces the answer with a "changed"
# marker, at once and again on commit: every process then asks the database, and an
# answer read before the change cannot be cached after it (`add` never overwrites the
# marker). Disabling by `update()` (the workers) leaves a stale "yes" at worst, which
# costs one fan-out task that finds no endpoint.
HAS_ENDPOINT_SECONDS = 60
CHANGED_SECONDS = 10
_YES, _NO, _CHANGED = 1, 0, -1  # integers: Redis stores them as they are, unpickled


def has_endpoint_key(workspace_id: uuid.UUID) -> str:
    return f"webhooks:has_endpoint:{workspace_id}"


def _cached(key: str) -> int | None:
    backend = cache_backend()
    client = redis_client(backend)  # one round trip without Django's per-call client
    if client is None:
        return backend.get(key)
    value = client.get(backend.make_and_validate_key(key))
    return None if value is None else int(value)


def workspace_has_endpoint(workspace_id: uuid.UUID) -> bool:
    """Whether the workspace has an enabled endpoint, from the cache when it can be."""
    key = has_endpoint_key(workspace_id)
    read, cached = prefetch.recall(key)  # read with an API request's rate limit
    if read:
        cached = None if cached is None else int(cached)
    else:
        try:
            cached = _cached(key)
        except Exception:  # the cache is down: the database answers, as it did before
            cached = _CHANGED
    if cached in (_YES, _NO):
        return cached == _YES
    found = WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True).exists()
    if cached is None:
        with contextlib.suppress(Exception):
            cache.add(key, _YES if found else _NO, HAS_ENDPOINT_SECONDS)
    return found


def _endpoints_changed(workspace_id: uuid.UUID) -> None:
    try:
        cache.set(has_endpoint_key(workspace_id), _CHANGED, CHANGED_SECONDS)
    except Exception:
        logger.warning(
            "The cache is unreachable: endpoint changes show within %d s",
            HAS_ENDPOINT_SECONDS,
            exc_info=True,
        )


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="webhooks.endpoint_deleted")
def _endpoint_changed(sender: type, instance: WebhookEndpoint, **signal: object) -> None:
    workspace_id = instance.workspace_id
    _endpoints_changed(workspace_id)
    transaction.on_commit(lambda: _endpoints_changed(workspace_id))


def webhooks_events_committed(
    *, event_ids: list[int], workspace_id: uuid.UUID, **signal: object
) -> None:
    """Runs after the events' transaction commits. Most workspaces have no endpoint: the
    cache says so without a query."""
    if not workspace_has_endpoint(workspace_id):
        return
    for event_id in event_ids:
        if not jobs.enqueue("webhooks.fan_out", [event_id]):
            # The broker is down: write the deliveries now, and the sweep sends them.
            webhooks_fan_out(event_id=event_id, enqueue=False)


def _matches(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return not endpoint.event_types or event_type in endpoint.event_types


def webhooks_fan_out(*, event_id: int, enqueue: bool = True) -> list[uuid.UUID]:
    """One delivery per matching enabled endpoint; safe to run twice (unique per
    endpoint and event, and only never-attempted deliveries are enqueued again). The
    event is numbered first (the payload carries its sequence)."""
    event = Event.objects.filter(pk=event_id).only("id", "type", "workspace_id", "sequence").first()
    if event is None:
        return []
    if event.sequence is None:
        events_sequence(workspace_id=event.workspace_id)
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            workspace_id=event.workspace_id, enabled=True
        ).only("id", "event_types")
        if _matches(endpoint, event.type)
    ]
    if not endpoints:
        return []
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(endpoint=e, event_id=event.pk, next_attempt_at=now) for e in endpoints],
        ignore_conflicts=True,
    )
    pending = list(
        WebhookDelivery.objects.filter(
            event_id=event.pk,
            endpoint__in=endpoints,
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
        ).values_list("id", flat=True)
    )
    if enqueue:
        for delivery_id in pending:
            delivery_enqueue(delivery_id=delivery_id, at=now)
    return pending


def webhooks_deliver_now(*, delivery_ids: list[uuid.UUID]) -> int:
    """First attempts of one event's deliveries, in one go: claimed and loaded together,
    POSTed in parallel threads (a slow endpoint delays none of the others), and the
    successes recorded in one transaction. Failures go through _record_outcome one by
    one, which schedules their retries as usual. Returns how many were attempted."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                pk__in=delivery_ids,
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now + timedelta(seconds=1),
            )
            .values_list("pk", flat=True)
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(claimed_until=now + LEASE)
    deliveries = list(
        WebhookDelivery.objects.select_related("endpoint", "event").filter(pk__in=ids)
    )
    live = [d for d in deliveries if d.endpoint.enabled]
    for delivery in deliveries:
        if not delivery.endpoint.enabled:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.FAILED, claimed_until=None, next_attempt_at=None
            )
    if len(live) > 1 and not connection.in_atomic_block:
        with ThreadPoolExecutor(max_workers=min(8, len(live))) as pool:
            results = list(pool.map(_post_in_thread, live))
    else:  # inside a transaction other threads could not see the rows
        results = [_post(delivery) for delivery in live]
    succeeded = []
    for delivery, (started_at, result) in zip(live, results, strict=True):
        if result.status_code is not None and 200 <= result.status_code < 300:
            succeeded.append((delivery, started_at, result))
        else:
            _record_outcome(delivery=delivery, started_at=started_at, result=result)
    _record_successes(succeeded)
    return len(live)


def _post(delivery: WebhookDelivery) -> tuple[datetime, PostResult]:
    body = payload_body(delivery.event)
    started_at = timezone.now()
    headers = signed_headers(
        endpoint=delivery.endpoint, msg_id=str(delivery.pk), body=body, now=started_at
    )
    return started_at, http_post(delivery.endpoint.url, body, headers)


def _post_in_thread(delivery: WebhookDelivery) -> tuple[datetime, PostResult]:
    try:
        return _post(delivery)
    finally:
        connection.close()  # back to the pool (the address check may have queried)


def _record_successes(succeeded: list[tuple[WebhookDelivery, datetime, PostResult]]) -> None:
    if not succeeded:
        return
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(
                delivery=delivery,
                started_at=started_at,
                status_code=result.status_code,
                latency_ms=result.latency_ms,
                response_body=result.body,
                error=result.error,
            )
            for delivery, started_at, result in succeeded
        )
        WebhookDelivery.objects.filter(pk__in=[d.pk for d, _, _ in succeeded]).update(
            status=WebhookDelivery.Status.SUCCEEDED,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            claimed_until=None,
            delivered_at=now,
            updated_at=now,
        )
        for endpoint_id in {delivery.endpoint_id for delivery, _, _ in succeeded}:
            _endpoint_succeeded(endpoint_id, now)


def delivery_enqueue(*, delivery_id: uuid.UUID, at: datetime) -> None:
    """A task for the attempt due at `at`; when it cannot be, the sweep sends it."""
    jobs.enqueue("webhooks.deliver", [str(delivery_id)], at=at)


# --- Delivery -------------------------------------------------------------------------


def nominal_retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones, before jitter."""
    return nominal_delay(attempts, first=FIRST_RETRY, cap=MAX_RETRY_DELAY)


def retry_delay(attempts: int) -> float:
    return backoff(
        attempts, first=FIRST_RETRY, cap=MAX_RETRY_DELAY, spread=(1 - JITTER, 1 + JITTER)
    )


def retry_schedule() -> list[float]:
    """Seconds from the first attempt to each attempt, without jitter (docs/webhooks.md)."""
    offsets = [0.0]
    while offsets[-1] + nominal_retry_delay(len(offsets)) <= RETRY_WINDOW.total_seconds():
        offsets.append(offsets[-1] + nominal_retry_delay(len(offsets)))
    return offsets


def _claim(delivery_id: uuid.UUID | str, now: datetime) -> bool:
    """One conditional UPDATE: of two workers, exactly one gets the row."""
    return bool(
        WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=delivery_id,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now + timedelta(seconds=1),  # a countdown may fire early
        ).update(claimed_until=now + LEASE)
    )


def webhook_deliver(*, delivery_id: uuid.UUID | str) -> str | None:
    """One attempt at a pending, due, unclaimed delivery; returns its new status, or None
    when there was nothing to do (not due, someone else's, already settled, gone)."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, claimed_until=None, next_attempt_at=None
        )
        return WebhookDelivery.Status.FAILED

    started_at, result = _post(delivery)
    return _record_outcome(delivery=delivery, started_at=started_at, result=result)


def _record_outcome(*, delivery: WebhookDelivery, started_at: datetime, result: PostResult) -> str:
    endpoint = delivery.endpoint
    now = timezone.now()
    code = result.status_code
    attempts = delivery.attempts + 1
    next_at: datetime | None = None
    disable: str = ""
    if code is not None and 200 <= code < 300:
        status = WebhookDelivery.Status.SUCCEEDED
    elif code == 410:
        status, disable = WebhookDelivery.Status.FAILED, WebhookEndpoint.DisabledReason.GONE
    else:
        if code in (429, 503) and result.retry_after is not None:
            delay = min(MAX_RETRY_DELAY, max(1.0, result.retry_after))
        else:
            delay = retry_delay(attempts)
        next_at = now + timedelta(seconds=delay)
        if next_at > delivery.created_at + RETRY_WINDOW:
            status, next_at = WebhookDelivery.Status.FAILED, None
        else:
            status = WebhookDelivery.Status.PENDING

    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=started_at,
            status_code=code,
            latency_ms=result.latency_ms,
            response_body=result.body,
            error=result.error,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status,
            attempts=F("attempts") + 1,
            next_attempt_at=next_at,
            claimed_until=None,
            delivered_at=now if status == WebhookDelivery.Status.SUCCEEDED else None,
            updated_at=now,
        )
        if status == WebhookDelivery.Status.SUCCEEDED:
            _endpoint_succeeded(endpoint.pk, now)
        else:
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
                failing_since=now
            )
            failing_since = (
                WebhookEndpoint.objects.filter(pk=endpoint.pk)
                .values_list("failing_since", flat=True)
                .first()
            )
            if not disable and failing_since and failing_since <= now - DISABLE_AFTER:
                disable = WebhookEndpoint.DisabledReason.FAILING
        if disable:
            _endpoint_disable(endpoint_id=endpoint.pk, reason=disable)
        if next_at is not None:
            transaction.on_commit(lambda: delivery_enqueue(delivery_id=delivery.pk, at=next_at))
    return status


def _endpoint_succeeded(endpoint_id: uuid.UUID, now: datetime) -> None:
    # Conditional, so a busy endpoint's row is written about once a minute and parallel
    # deliveries do not queue on its lock.
    WebhookEndpoint.objects.filter(
        Q(failing_since__isnull=False)
        | Q(last_success_at__isnull=True)
        | Q(last_success_at__lt=now - timedelta(minutes=1)),
        pk=endpoint_id,
    ).update(last_success_at=now, failing_since=None)


def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """By hand (API or admin): one more attempt now, whatever the delivery's state. If
    it fails, the schedule continues while the 24 h window lasts."""
    if not delivery.endpoint.enabled:
        raise Conflict("The endpoint is disabled; enable it first.", code="webhook_disabled")
    now = timezone.now()
    updated = WebhookDelivery.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now), pk=delivery.pk
    ).update(status=WebhookDelivery.Status.PENDING, next_attempt_at=now, updated_at=now)
    if not updated:
        raise Conflict("The delivery is being attempted right now.", code="webhook_in_flight")
    transaction.on_commit(lambda: delivery_enqueue(delivery_id=delivery.pk, at=now))
    delivery.refresh_from_db()
    return delivery


def webhooks_sweep() -> int:
    """Enqueues deliveries that are due and not being attempted: their wait was longer
    than a countdown, or their task was lost (broker down, worker killed)."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now - SWEEP_GRACE,
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    # The ones whose wait was longer than a countdown are due now, not late by the grace.
    due += list(
        WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            next_attempt_at__gt=now - SWEEP_GRACE,
            # Only attempts scheduled too far ahead for a countdown task: the others
            # have a task waiting in the queue, which the sweep must not duplicate.
            updated_at__lt=F("next_attempt_at") - timedelta(seconds=jobs.MAX_COUNTDOWN),
        ).values_list("id", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        delivery_enqueue(delivery_id=delivery_id, at=now)
    return len(due)
