"""Outbound webhooks: every event of a workspace POSTed to its endpoints, signed per the
Standard Webhooks specification (https://www.standardwebhooks.com), retried for a day,
never aimed at our own network.

Flow: `event_record` registers `webhooks_event_committed` on commit; when the workspace
has an enabled endpoint it enqueues `webhooks.fan_out`, which writes one WebhookDelivery
per matching endpoint and enqueues `webhooks.deliver` for each. A delivery is claimed by
one conditional UPDATE (a lease), so two workers holding the same task make one POST.
Retries are rows with `next_attempt_at`; short waits are task countdowns, long ones are
picked up by `webhooks.sweep`, which also rescues deliveries whose task was lost.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import secrets
import socket
import ssl
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from channels.webhook_models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from config.errors import Conflict
from config.tasking import MAX_COUNTDOWN, enqueue_at
from conversations.events import event_record
from conversations.models import Event
from conversations.payloads import iso
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32
ROTATION_OVERLAP = timedelta(hours=24)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
# A receiver that drips its answer byte by byte still ends within this.
TOTAL_TIMEOUT = 20.0
READ_CAP = 64 * 1024  # read at most this much of an answer...
LOG_CAP = 1024  # ...and keep the first 1 KB of it
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

# The cloud metadata services (AWS, GCP, Azure, ...; AWS's IPv6 one) by name, so the
# refusal says what was refused; they are link-local or private anyway.
METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
}

USER_AGENT = "MessagingService-Webhooks/1.0"


class UnsafeTarget(Exception):
    """The URL may not be delivered to; the message says why, for the API client."""


# --- Signing --------------------------------------------------------------------------


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's
    base64-decoded part, as the specification writes it."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and during a rotation's overlap the previous one."""
    keys = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires and expires > now:
        keys.append(endpoint.previous_secret)
    return keys


def signed_headers(
    *, endpoint: WebhookEndpoint, msg_id: str, body: bytes, now: datetime
) -> dict[str, str]:
    timestamp = int(now.timestamp())
    signatures = " ".join(
        signature(secret=key, msg_id=msg_id, timestamp=timestamp, body=body)
        for key in signing_secrets(endpoint, now)
    )
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def payload_body(event: Event) -> bytes:
    """The exact bytes that are signed and sent. Event data is already free of message
    text for HIPAA conversations (conversations.payloads)."""
    payload = {
        "type": event.type,
        "timestamp": iso(event.created_at),
        "data": {**event.data, "sequence": event.sequence},
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# --- Safety: where we may connect -----------------------------------------------------


def _refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    if not address.is_global:  # shared (CGNAT) space and the like
        return "a non-public address"
    return None


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False))


def target_resolve(host: str, port: int) -> str:
    """The address to connect to: `host` resolved, every address it resolves to checked
    (one bad address among good ones is refused: a resolver may hand out any of them).
    The caller connects to this very address, so a second lookup (DNS rebinding) never
    decides where the request goes."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"The host '{host}' does not resolve.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeTarget(f"The host '{host}' does not resolve.")
    if not private_networks_allowed():
        for address in addresses:
            reason = _refusal(address)
            if reason:
                raise UnsafeTarget(f"The host '{host}' resolves to {reason} ({address}).")
    return str(addresses[0])


def url_check(url: str, *, resolve: bool = True) -> None:
    """At creation and update: the scheme, and (unless private networks are allowed)
    where the host resolves to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("The URL must start with https://.")
    if parts.scheme == "http" and not (settings.DEBUG or private_networks_allowed()):
        raise UnsafeTarget("The URL must use https.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeTarget("The URL may not carry credentials.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget("The URL's port is invalid.") from exc
    if resolve and not private_networks_allowed():
        target_resolve(parts.hostname, port)


# --- HTTP -----------------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given address; the Host header still names the host."""

    def __init__(self, host: str, port: int, *, address: str) -> None:
        super().__init__(host, port, timeout=READ_TIMEOUT)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(READ_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS to the given address, with SNI and certificate checks against the host name."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


@dataclass
class PostResult:
    status_code: int | None
    body: str
    retry_after: float | None
    error: str
    latency_ms: int


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def http_post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """One POST, never following redirects, to the checked address of the URL's host."""
    started = time.monotonic()

    def result(code: int | None = None, text: str = "", error: str = "", retry=None):
        latency = int((time.monotonic() - started) * 1000)
        return PostResult(code, text, retry, error[:500], latency)

    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    try:
        url_check(url, resolve=False)
        address = target_resolve(parts.hostname or "", port)
    except UnsafeTarget as exc:
        return result(error=f"Refused: {exc}")
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parts.hostname or "", port, address=address)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        chunks: list[bytes] = []
        received = 0
        while received < READ_CAP:
            if time.monotonic() - started > TOTAL_TIMEOUT:
                break
            chunk = response.read1(min(8192, READ_CAP - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
        text = b"".join(chunks)[:LOG_CAP].decode("utf-8", errors="replace")
        return result(response.status, text, retry=_retry_after(response.getheader("retry-after")))
    except TimeoutError:
        return result(error="Timed out.")
    except ssl.SSLError as exc:
        return result(error=f"TLS error: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return result(error=f"Connection error: {exc.__class__.__name__}: {exc}")
    finally:
        connection.close()


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
    changed = [field for field in ("url", "event_types", "description") if field in data]
    for field in changed:
        setattr(endpoint, field, data[field])
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
            "webhook_id": str(endpoint.pk),
            "url": endpoint.url,
            "reason": reason,
            "last_success_at": iso(endpoint.last_success_at),
        },
    )


# --- Fan-out --------------------------------------------------------------------------


def webhooks_event_committed(*, event_id: int, workspace_id: uuid.UUID) -> None:
    webhooks_events_committed(event_ids=[event_id], workspace_id=workspace_id)


def webhooks_events_committed(*, event_ids: list[int], workspace_id: uuid.UUID) -> None:
    """Runs after the events' transaction commits. Most workspaces have no endpoint, so
    one cheap query decides whether there is anything to do."""
    if not WebhookEndpoint.objects.filter(workspace_id=workspace_id, enabled=True).exists():
        return
    from channels.tasks import webhooks_fan_out_task

    for event_id in event_ids:
        try:
            webhooks_fan_out_task.apply_async(args=[event_id])
        except Exception:
            # The broker is down: write the deliveries now, and the sweep sends them.
            logger.warning("Could not enqueue fan-out of event %s; fanning out inline", event_id)
            webhooks_fan_out(event_id=event_id, enqueue=False)


def _matches(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return not endpoint.event_types or event_type in endpoint.event_types


def webhooks_fan_out(*, event_id: int, enqueue: bool = True) -> list[uuid.UUID]:
    """One delivery per matching enabled endpoint; safe to run twice (unique per
    endpoint and event, and only never-attempted deliveries are enqueued again)."""
    event = Event.objects.filter(pk=event_id).only("id", "type", "workspace_id").first()
    if event is None:
        return []
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
    from channels.tasks import webhook_deliver_task

    enqueue_at(webhook_deliver_task, [str(delivery_id)], at)


# --- Delivery -------------------------------------------------------------------------


def nominal_retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones, before jitter."""
    return min(MAX_RETRY_DELAY, FIRST_RETRY * 2 ** max(0, attempts - 1))


def retry_delay(attempts: int) -> float:
    # Jitter spreads the retries of many deliveries that failed together (an endpoint's
    # outage) so they do not all return at the same second.
    return nominal_retry_delay(attempts) * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311


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
            updated_at__lt=F("next_attempt_at") - timedelta(seconds=MAX_COUNTDOWN),
        ).values_list("id", flat=True)[:SWEEP_BATCH]
    )
    for delivery_id in due:
        delivery_enqueue(delivery_id=delivery_id, at=now)
    return len(due)
