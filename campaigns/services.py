"""Campaigns: the writes.

Life of a campaign:

1. `campaign_create` (the request): checks the flow, stores the rows as given (one COPY
   on PostgreSQL) and enqueues `campaigns.prepare`. Nothing per row happens in the
   request, so 50,000 rows answer in well under two seconds.
2. `campaign_prepare` (a worker): checks every row (address for the flow's channel,
   the dynamic values the message uses, the time zone given) and marks duplicates (the
   first row of an address is kept); bad rows are skipped with their reason.
3. `campaign_start` at `send_at`: status running, `campaign.started`, and a chain of
   `campaigns.create_batch` tasks, CAMPAIGN_BATCH_SIZE rows each, one after the other.
4. `campaign_create_batch`: each row becomes a seed 000 conversation and message
   (conversations.outbound.messages_generate, in one transaction per batch); opted-out
   contacts are skipped. Messages carry `campaign_id` in their metadata: delivery paces
   them behind conversational replies. The send sweep hands them out.
5. `campaigns_tick` (beat, every 2 s): starts what is due, reports `campaign.progress`
   (at most every CAMPAIGN_PROGRESS_INTERVAL seconds, when something changed), completes
   campaigns with nothing left to send (`campaign.completed`), and hands out again work
   whose task was lost.

Pause holds the campaign's scheduled messages as drafts (they leave when it resumes);
cancel stops every message not yet sent (scheduling.message_cancel) and every row not
yet turned into one.
"""

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from json.encoder import c_make_encoder, encode_basestring

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from campaigns.models import Campaign, CampaignRecipient
from campaigns.rows import Row
from campaigns.selectors import NOT_SENT, campaign_counts, campaign_messages, counts_for_api
from channels import throttle
from conversations.delivery import BULK_KEY, sender_pace
from conversations.events import event_record
from conversations.models import DeliveryStatus, Message
from conversations.outbound import (
    Recipient,
    flow_for_sending,
    messages_generate,
    recipient_prepare,
)
from conversations.scheduling import message_cancel
from core import jobs
from core.crypto import encrypt_text, seal_object
from core.errors import ApplicationError, Conflict
from flows.models import Direction, MessageFlow
from flows.working_hours import validate_timezone
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

Status = Campaign.Status
State = CampaignRecipient.State
SkipReason = CampaignRecipient.SkipReason

# A worker preparing a campaign holds it this long; after that another may take over.
PREPARE_LEASE = timedelta(minutes=5)
# Rows still pending this long after the last batch: the chain is started again.
BATCH_LEASE = timedelta(seconds=60)
# How many messages one cancel task cancels before it hands on to the next.
CANCEL_CHUNK = 500
# Canceled campaigns whose messages the tick still looks after.
CANCEL_FOLLOW_UP = timedelta(days=1)


def _event(campaign: Campaign, type_: str, counts: dict | None = None, **extra: object) -> None:
    """A campaign event (camelCase, as every event), in the caller's transaction."""
    if counts is None:
        counts = campaign_counts([campaign.pk])[campaign.pk]
    event_record(
        workspace_id=campaign.workspace_id,
        type=type_,
        data={
            "campaignId": str(campaign.pk),
            "name": campaign.name,
            "status": campaign.status,
            "counts": counts_for_api(counts),
            **extra,
        },
    )


# --- Create -------------------------------------------------------------------------

COLUMNS = (
    "campaign_id",
    "workspace_id",
    "position",
    "to",
    "name",
    "customer_details",
    "dynamic",
    "state",
    "skip_reason",
    "error",
    "held",
    "created_at",
    "updated_at",
)


def _customer_data(row: Row, *, hipaa: bool) -> tuple[str, object, object]:
    """The row's name, details and dynamic values as stored: sealed for a HIPAA flow
    (the fields open them as they are read)."""
    if not hipaa:
        return row.name, row.details, row.dynamic
    return (
        encrypt_text(row.name) if row.name else "",
        seal_object(row.details),
        seal_object(row.dynamic),
    )


def _row_values(campaign: Campaign, row: Row, now: datetime) -> tuple:
    reason, error = row.problem or ("", "")
    return (
        campaign.pk,
        campaign.workspace_id,
        row.position,
        row.to,
        *_customer_data(row, hipaa=campaign.flow.hipaa_compliance),
        State.SKIPPED if row.problem else State.PENDING,
        reason,
        error,
        False,
        now,
        now,
    )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _json_encoder() -> Callable[[object], str]:
    """Compact JSON, non-ASCII kept; the C encoder called directly, five times faster
    than json.dumps for a row's small objects (it counts at 50,000 rows)."""
    if c_make_encoder is None:  # no C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    chunks = c_make_encoder(None, None, encode_basestring, None, ":", ",", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_json = _json_encoder()


def _recipients_insert(campaign: Campaign, rows: list[Row]) -> None:
    """Every row at once: PostgreSQL's COPY, written as text lines (50,000 rows in a few
    tenths of a second), else bulk INSERTs."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        CampaignRecipient.objects.bulk_create(
            [
                CampaignRecipient(
                    **dict(zip(COLUMNS, _row_values(campaign, row, now), strict=True))
                )
                for row in rows
            ],
            batch_size=2000,
        )
        return
    table = connection.ops.quote_name(CampaignRecipient._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in COLUMNS)
    head = f"{campaign.pk}\t{campaign.workspace_id}\t"
    tail = f"\tf\t{now.isoformat()}\t{now.isoformat()}\n"
    escapes, pending, skipped = _COPY_ESCAPES, State.PENDING.value, State.SKIPPED.value
    hipaa = campaign.flow.hipaa_compliance
    lines = []
    for row in rows:
        reason, error = row.problem or ("", "")
        name, details, dynamic = _customer_data(row, hipaa=hipaa)
        lines.append(
            f"{head}{row.position}\t{row.to.translate(escapes)}\t{name.translate(escapes)}\t"
            f"{_json(details).translate(escapes)}\t{_json(dynamic).translate(escapes)}\t"
            f"{skipped if row.problem else pending}\t{reason}\t{error.translate(escapes)}{tail}"
        )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN"  # names only, no values
        ) as copy,
    ):
        copy.write("".join(lines))


def _check_size(rows: list[Row]) -> None:
    if not rows:
        raise ApplicationError(
            "The list names no recipient.",
            code="validation_error",
            errors={"recipients": ["Give at least one recipient."]},
        )
    limit = settings.CAMPAIGN_MAX_RECIPIENTS
    if len(rows) > limit:
        raise ApplicationError(
            f"A campaign takes at most {limit} recipients; this list has {len(rows)}.",
            code="validation_error",
            errors={"recipients": [f"At most {limit} recipients."]},
        )


def campaign_create(
    *,
    workspace: Workspace,
    name: str,
    flow_id: object,
    rows: list[Row],
    send_at: datetime | None,
    autopilot: bool,
    source: str = Campaign.Source.JSON,
) -> Campaign:
    """Stores the campaign and its rows as given, and hands the rest to the workers.
    The flow must be the workspace's (404), active and not inbound-only (400)."""
    flow = flow_for_sending(workspace, flow_id)
    _check_size(rows)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            workspace=workspace,
            name=name,
            flow=flow,
            autopilot=autopilot,
            send_at=send_at or timezone.now(),
            source=source,
            total=len(rows),
        )
        _recipients_insert(campaign, rows)
        campaign_id = str(campaign.pk)
        transaction.on_commit(lambda: jobs.enqueue("campaigns.prepare", [campaign_id]))
    return campaign


# --- Prepare ------------------------------------------------------------------------


def _check(flow: MessageFlow, to: str, details: dict, dynamic: dict) -> Recipient:
    """A row against the flow: raises ApplicationError naming the problem."""
    zone = details.get("timezone")
    if zone is not None:
        try:
            validate_timezone(zone)
        except ValueError:
            raise ApplicationError(
                "Field 'customerDetails.timezone' must be an IANA time zone such as "
                "'America/Chicago'.",
                code="validation_error",
                errors={"customerDetails.timezone": ["Must be an IANA time zone."]},
            ) from None
    return recipient_prepare(flow=flow, to=to, customer_details=details, dynamic=dynamic)


def _skip_reason(exc: ApplicationError) -> str:
    return SkipReason.INVALID_ADDRESS if "to" in (exc.errors or {}) else SkipReason.INVALID_DATA


def _verdict(
    flow: MessageFlow,
    position: int,
    to: str,
    details: dict,
    dynamic: dict,
    first_of: dict[str, int],
) -> tuple[Recipient | None, tuple[str, str] | None]:
    """A row the worker keeps (its recipient, message rendered) or skips (reason, why):
    a row that does not fit the flow, or the second row of an address. Records the
    address of a kept row in `first_of` (address: position)."""
    try:
        recipient = _check(flow, to, details, dynamic)
    except ApplicationError as exc:
        return None, (_skip_reason(exc), exc.message)
    if recipient.address in first_of:
        return None, (
            SkipReason.DUPLICATE,
            f"Row {first_of[recipient.address]} has the same address.",
        )
    first_of[recipient.address] = position
    return recipient, None


@dataclass(frozen=True)
class PreviewRow:
    position: int
    to: str
    name: str
    text: str  # the message, rendered as the send renders it


@dataclass(frozen=True)
class Preview:
    flow: MessageFlow
    total: int
    good: int
    bad: list[tuple[int, str]]  # (row, why), the first PREVIEW_BAD of them
    bad_total: int
    first: list[PreviewRow]  # the first PREVIEW_GOOD good rows


PREVIEW_GOOD = 10
PREVIEW_BAD = 50


def campaign_preview(*, workspace: Workspace, flow_id: object, rows: list[Row]) -> Preview:
    """What campaign_create would take and its workers make of `rows`, without writing
    anything: the same refusals (the flow, the list's size), each bad row with the reason
    the worker would skip it, and the first good rows' messages. Opt-outs are not
    known until a row's message is made: they are skipped then."""
    flow = flow_for_sending(workspace, flow_id)
    _check_size(rows)
    first_of: dict[str, int] = {}
    bad: list[tuple[int, str]] = []
    bad_total = 0
    first: list[PreviewRow] = []
    for row in rows:
        recipient, problem = (
            (None, row.problem)
            if row.problem
            else _verdict(flow, row.position, row.to, row.details, row.dynamic, first_of)
        )
        if problem is not None:
            bad_total += 1
            if len(bad) < PREVIEW_BAD:
                bad.append((row.position, problem[1]))
        elif len(first) < PREVIEW_GOOD:
            first.append(PreviewRow(row.position, recipient.address, row.name, recipient.text))
    return Preview(
        flow=flow,
        total=len(rows),
        good=len(rows) - bad_total,
        bad=bad,
        bad_total=bad_total,
        first=first,
    )


def campaign_prepare(*, campaign_id: str) -> bool:
    """Checks every pending row and skips the bad ones and the duplicates (the first
    row of an address is kept). Then starts the campaign if it is due. Safe to run
    twice: a lease lets one worker at a time do it, and done is done."""
    now = timezone.now()
    taken = (
        Campaign.objects.filter(pk=campaign_id, prepared_at__isnull=True)
        .filter(Q(preparing_at__isnull=True) | Q(preparing_at__lte=now - PREPARE_LEASE))
        .update(preparing_at=now)
    )
    if not taken:
        return False
    campaign = Campaign.objects.select_related("flow").get(pk=campaign_id)
    flow = campaign.flow
    skipped: list[CampaignRecipient] = []
    if flow is not None and campaign.status != Status.CANCELED:
        first_of: dict[str, int] = {}
        rows = (
            CampaignRecipient.objects.filter(campaign=campaign, state=State.PENDING)
            .order_by("position")
            .values_list("pk", "position", "to", "customer_details", "dynamic")
        )
        for pk, position, to, details, dynamic in rows.iterator(chunk_size=5000):
            _, problem = _verdict(flow, position, to, details, dynamic, first_of)
            if problem is not None:
                reason, error = problem
                skipped.append(
                    CampaignRecipient(pk=pk, state=State.SKIPPED, skip_reason=reason, error=error)
                )
    with transaction.atomic():
        CampaignRecipient.objects.bulk_update(
            skipped, ["state", "skip_reason", "error"], batch_size=1000
        )
        Campaign.objects.filter(pk=campaign_id).update(prepared_at=timezone.now())
    send_at = campaign.send_at
    if send_at <= timezone.now():
        campaign_start(campaign_id=campaign_id)
    else:
        jobs.enqueue("campaigns.start", [campaign_id], at=send_at)  # else the tick starts it
    return True


# --- Start and batches --------------------------------------------------------------


def _next_range(campaign_id: object, after: int = 0) -> tuple[int, int] | None:
    """The positions of the next CAMPAIGN_BATCH_SIZE pending rows after `after`."""
    positions = list(
        CampaignRecipient.objects.filter(
            campaign_id=campaign_id, state=State.PENDING, position__gt=after
        )
        .order_by("position")
        .values_list("position", flat=True)[: settings.CAMPAIGN_BATCH_SIZE]
    )
    return (positions[0], positions[-1]) if positions else None


def _hand_out_batches(campaign: Campaign) -> None:
    """Starts the campaign's chain of create_batch tasks once the caller's transaction
    commits: one batch at a time, each handing on to the next. Making messages is far
    faster than sending them, so one at a time keeps ahead of the senders without
    taking every worker's CPU at once (a reply being written meanwhile needs some);
    the tick starts the chain again if a task gets lost."""
    campaign_id = str(campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(batches_at=timezone.now())

    def enqueue() -> None:
        found = _next_range(campaign_id)
        if found is not None:
            jobs.enqueue("campaigns.create_batch", [campaign_id, *found])

    transaction.on_commit(enqueue)


def campaign_start(*, campaign_id: str) -> bool:
    """A scheduled campaign whose rows are checked starts once due."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        now = timezone.now()
        if (
            campaign is None
            or campaign.status != Status.SCHEDULED
            or campaign.prepared_at is None
            or campaign.send_at > now
        ):
            return False
        campaign.status = Status.RUNNING
        campaign.started_at = now
        campaign.save(update_fields=["status", "started_at", "updated_at"])
        _event(campaign, "campaign.started")
        _hand_out_batches(campaign)
    return True


def _lock_shared(campaign_id: str) -> Campaign | None:
    """The campaign, locked against pause and cancel (FOR SHARE: batches run side by
    side) until the transaction ends, so none creates a message after a pause."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Campaign._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR SHARE", [campaign_id])  # noqa: S608 - names only
    return Campaign.objects.select_related("flow", "workspace").filter(pk=campaign_id).first()


def _flow_problem(flow: MessageFlow | None) -> str:
    if flow is None:
        return "The campaign's flow was deleted."
    if not flow.is_active:
        return "The campaign's flow is not active; activate it and resume."
    if flow.direction == Direction.INBOUND:
        return "The campaign's flow is inbound-only; change it and resume."
    return ""


def campaign_create_batch(*, campaign_id: str, first: int, last: int) -> int:
    """Turns the pending rows `first`..`last` (positions) into conversations and
    messages, in one transaction, then hands on to the next rows. Returns how many
    messages it created. Safe to run twice: rows are claimed (FOR UPDATE SKIP LOCKED)
    and only pending ones taken."""
    with transaction.atomic():
        campaign = _lock_shared(campaign_id)
        if campaign is None or campaign.status != Status.RUNNING:
            return 0
        flow = campaign.flow
        problem = _flow_problem(flow)
        created = 0 if problem else _create_messages(campaign, flow, first, last)
    if problem:
        campaign_pause(campaign=Campaign.objects.get(pk=campaign_id), reason=problem)
        return 0
    # Outside the batch's transaction: it holds the campaign FOR SHARE.
    Campaign.objects.filter(pk=campaign_id).update(batches_at=timezone.now())
    found = _next_range(campaign_id, after=last)
    if found is not None:
        jobs.enqueue("campaigns.create_batch", [campaign_id, *found])
    return created


def _create_messages(campaign: Campaign, flow: MessageFlow, first: int, last: int) -> int:
    rows = list(
        CampaignRecipient.objects.select_for_update(skip_locked=True)
        .filter(campaign=campaign, state=State.PENDING, position__gte=first, position__lte=last)
        .order_by("position")
    )
    if not rows:
        return 0
    checked: list[tuple[CampaignRecipient, Recipient]] = []
    for row in rows:
        try:
            checked.append((row, _check(flow, row.to, row.customer_details, row.dynamic)))
        except ApplicationError as exc:  # the flow's message changed since the check
            row.state, row.skip_reason, row.error = State.SKIPPED, _skip_reason(exc), exc.message
    created = 0

    def record(results: list) -> None:
        nonlocal created
        for (row, _), result in zip(checked, results, strict=True):
            if result.refusal is not None:
                row.state, row.skip_reason = State.SKIPPED, SkipReason.OPTED_OUT
                row.error = result.refusal.message
            else:
                row.state = State.CREATED
                row.conversation, row.message = result.conversation, result.message
                created += 1
        now = timezone.now()
        for row in rows:
            row.updated_at = now
        CampaignRecipient.objects.bulk_update(
            rows, ["state", "skip_reason", "error", "conversation", "message", "updated_at"]
        )

    messages_generate(
        workspace=campaign.workspace,
        flow=flow,
        recipients=[recipient for _, recipient in checked],
        autopilot=campaign.autopilot,
        metadata={BULK_KEY: str(campaign.pk)},
        enqueue_each=False,
        # The rows are written before the events, which hold the workspace's event lock
        # until commit (a reply being stored meanwhile waits for it).
        before_events=record,
    )
    return created


# --- Pause, resume, cancel ----------------------------------------------------------


# Where each action applies (the admin shows a button only there). Pausing a paused
# campaign, resuming a running or scheduled one, or canceling a canceled one changes
# nothing; any other state refuses.
PAUSABLE = (Status.SCHEDULED, Status.RUNNING)
RESUMABLE = (Status.PAUSED,)
CANCELABLE = (Status.SCHEDULED, Status.RUNNING, Status.PAUSED)


def _locked(campaign: Campaign) -> Campaign:
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("flow").get(pk=campaign.pk)
    )


def _refuse(campaign: Campaign, action: str) -> Conflict:
    return Conflict(f"The campaign is {campaign.status}; it cannot be {action}.", code="conflict")


def _forget_deferred(flow: MessageFlow | None) -> Callable[[], None]:
    def forget() -> None:
        if flow is not None:
            throttle.forget_queue(sender_pace(flow))

    return forget


def _hold(campaign: Campaign) -> int:
    """The campaign's scheduled messages wait as drafts (delivery never claims a
    draft); their recipients are marked so resume sends them and nothing else."""
    ids = list(campaign_messages(campaign, [DeliveryStatus.SCHEDULED]).values_list("pk", flat=True))
    held = Message.objects.filter(pk__in=ids, status=DeliveryStatus.SCHEDULED).update(
        status=DeliveryStatus.DRAFT, enqueued_at=None, updated_at=timezone.now()
    )
    CampaignRecipient.objects.filter(campaign=campaign, message_id__in=ids).update(held=True)
    return held


def campaign_pause(*, campaign: Campaign, reason: str = "") -> Campaign:
    """Nothing more leaves until resume: messages not yet sent wait, rows not yet turned
    into messages wait. Pausing a paused campaign changes nothing."""
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status == Status.PAUSED:
            return campaign
        if campaign.status not in PAUSABLE:
            raise _refuse(campaign, "paused")
        _hold(campaign)
        campaign.status = Status.PAUSED
        campaign.status_reason = reason
        campaign.paused_at = timezone.now()
        campaign.save(update_fields=["status", "status_reason", "paused_at", "updated_at"])
        _event(campaign, "campaign.paused", reason=reason)
        transaction.on_commit(_forget_deferred(campaign.flow))
    return campaign


def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Held messages are scheduled again (now, or when they were due if later; inside
    the hours as ever) and the waiting rows handed out. Resuming a running or scheduled
    campaign changes nothing."""
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status in (Status.RUNNING, Status.SCHEDULED):
            return campaign
        if campaign.status not in RESUMABLE:
            raise _refuse(campaign, "resumed")
        now = timezone.now()
        held = CampaignRecipient.objects.filter(campaign=campaign, held=True)
        Message.objects.filter(
            pk__in=held.values("message_id"), status=DeliveryStatus.DRAFT
        ).update(
            status=DeliveryStatus.SCHEDULED,
            send_at=Greatest(F("send_at"), now),
            enqueued_at=None,  # the sweep (every 2 s) takes them, in batches
            updated_at=now,
        )
        held.update(held=False)
        campaign.status = Status.RUNNING if campaign.started_at else Status.SCHEDULED
        campaign.status_reason = ""
        campaign.paused_at = None
        campaign.save(update_fields=["status", "status_reason", "paused_at", "updated_at"])
        _event(campaign, "campaign.resumed")
        if campaign.status == Status.RUNNING:
            _hand_out_batches(campaign)
        else:
            campaign_id = str(campaign.pk)
            transaction.on_commit(lambda: campaign_start(campaign_id=campaign_id))
    return campaign


def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Stops every message not yet sent (each through scheduling.message_cancel, with
    its message.canceled event, by a worker) and every row not yet turned into one.
    Scheduled messages are held as drafts at once, so none leaves meanwhile."""
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.status == Status.CANCELED:
            return campaign
        if campaign.status not in CANCELABLE:
            raise _refuse(campaign, "canceled")
        _hold(campaign)
        now = timezone.now()
        CampaignRecipient.objects.filter(campaign=campaign, state=State.PENDING).update(
            state=State.CANCELED, updated_at=now
        )
        campaign.status = Status.CANCELED
        campaign.canceled_at = now
        campaign.save(update_fields=["status", "canceled_at", "updated_at"])
        _event(campaign, "campaign.canceled")
        campaign_id = str(campaign.pk)
        transaction.on_commit(lambda: jobs.enqueue("campaigns.cancel_messages", [campaign_id]))
        transaction.on_commit(_forget_deferred(campaign.flow))
    return campaign


def campaign_cancel_messages(*, campaign_id: str, limit: int = CANCEL_CHUNK) -> int:
    """Cancels up to `limit` of a canceled campaign's messages not yet sent, and hands
    the rest to the next task. Returns how many it canceled."""
    pending = list(
        campaign_messages(uuid.UUID(str(campaign_id)), NOT_SENT).select_related("conversation")[
            :limit
        ]
    )
    canceled = 0
    for message in pending:
        try:
            message_cancel(message=message, reason="The campaign was canceled.")
            canceled += 1
        except Conflict:
            pass  # it left meanwhile
    CampaignRecipient.objects.filter(campaign_id=campaign_id, held=True).filter(
        message_id__in=[m.pk for m in pending]
    ).update(held=False)
    if len(pending) == limit:
        jobs.enqueue("campaigns.cancel_messages", [str(campaign_id)])
    return canceled


# --- The tick -----------------------------------------------------------------------


def _complete(campaign: Campaign, counts: dict) -> None:
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.status != Status.RUNNING:
            return
        locked.status = Status.COMPLETED
        locked.completed_at = timezone.now()
        locked.counts = counts
        locked.save(update_fields=["status", "completed_at", "counts", "updated_at"])
        _event(locked, "campaign.completed", counts)


def _progress(campaign: Campaign, counts: dict, now: datetime) -> None:
    interval = timedelta(seconds=settings.CAMPAIGN_PROGRESS_INTERVAL)
    if counts == campaign.counts or (
        campaign.progress_at and now - campaign.progress_at < interval
    ):
        return
    with transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(counts=counts, progress_at=now)
        _event(campaign, "campaign.progress", counts)


def campaigns_tick() -> int:
    """Starts due campaigns, reports progress, completes finished ones and hands out
    lost work. Returns how many campaigns it looked at."""
    now = timezone.now()
    unprepared = Campaign.objects.filter(prepared_at__isnull=True).exclude(status=Status.CANCELED)
    for campaign_id in unprepared.filter(
        Q(preparing_at__isnull=True, created_at__lte=now - timedelta(seconds=10))
        | Q(preparing_at__lte=now - PREPARE_LEASE)
    ).values_list("pk", flat=True):
        jobs.enqueue("campaigns.prepare", [str(campaign_id)])
    due = Campaign.objects.filter(
        status=Status.SCHEDULED, prepared_at__isnull=False, send_at__lte=now
    ).values_list("pk", flat=True)
    for campaign_id in due:
        campaign_start(campaign_id=str(campaign_id))
    active = list(Campaign.objects.filter(status__in=[Status.RUNNING, Status.PAUSED]))
    counts = campaign_counts([campaign.pk for campaign in active])
    for campaign in active:
        found = counts[campaign.pk]
        if campaign.status == Status.RUNNING:
            if found["pending"] == found["draft"] == found["scheduled"] == 0:
                _complete(campaign, found)
                continue
            if found["pending"] and (campaign.batches_at or now) <= now - BATCH_LEASE:
                with transaction.atomic():
                    _hand_out_batches(campaign)
        _progress(campaign, found, now)
    # A cancel's task that got lost: its messages would otherwise wait as drafts.
    canceled = Campaign.objects.filter(
        status=Status.CANCELED,
        canceled_at__gte=now - CANCEL_FOLLOW_UP,
        canceled_at__lte=now - BATCH_LEASE,
    ).values_list("pk", flat=True)
    for campaign_id in canceled:
        if campaign_messages(campaign_id, NOT_SENT).exists():
            jobs.enqueue("campaigns.cancel_messages", [str(campaign_id)])
    return len(active)
