"""Reads of campaigns: counts and each recipient's outcome, derived from the recipient
rows and their messages' delivery status (so they are never out of step)."""

import uuid

from django.db.models import Count, Q, QuerySet

from campaigns.models import Campaign, CampaignRecipient
from conversations.models import DeliveryStatus, Message
from core.lookups import get_in_workspace
from workspaces.models import Workspace

State = CampaignRecipient.State
SkipReason = CampaignRecipient.SkipReason

# A recipient's outcome, from its message's delivery status once it has one.
OUTCOMES = ("pending", "draft", "scheduled", "sent", "delivered", "failed", "canceled", "skipped")
BY_STATUS = {
    DeliveryStatus.DRAFT: "draft",
    DeliveryStatus.SCHEDULED: "scheduled",
    DeliveryStatus.SENDING: "scheduled",
    DeliveryStatus.QUEUED: "sent",
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.UNDELIVERED: "failed",
    DeliveryStatus.CANCELED: "canceled",
}
STATUSES_OF = {
    outcome: [status for status, named in BY_STATUS.items() if named == outcome]
    for outcome in OUTCOMES
}
# Not yet left: what pause holds and cancel stops.
NOT_SENT = [DeliveryStatus.DRAFT, DeliveryStatus.SCHEDULED]


def campaign_for_workspace(*, workspace: Workspace, campaign_id: object) -> Campaign:
    """404 alike for a missing campaign, another workspace's and a malformed id."""
    return get_in_workspace(
        Campaign.objects.select_related("flow"),
        workspace=workspace,
        pk=campaign_id,
        what="Campaign",
    )


def recipient_outcome(*, state: str, held: bool, message_status: str | None) -> str:
    if state == State.PENDING:
        return "pending"
    if state == State.SKIPPED:
        return "skipped"
    if state == State.CANCELED:
        return "canceled"
    if held:
        return "scheduled"  # paused: it goes when the campaign resumes
    # A message that is gone (its conversation was deleted) was never sent by us.
    return BY_STATUS.get(message_status, "canceled")


def empty_counts(total: int = 0) -> dict:
    counts = {outcome: 0 for outcome in OUTCOMES if outcome != "skipped"}
    counts["total"] = total
    counts["skipped"] = {"total": 0, **{reason: 0 for reason in SkipReason.values}}
    return counts


# The skip reasons as the API and the events name them in `counts.skipped`.
SKIPPED_KEYS = {
    SkipReason.OPTED_OUT: "optedOut",
    SkipReason.DUPLICATE: "duplicate",
    SkipReason.INVALID_ADDRESS: "invalidAddress",
    SkipReason.INVALID_DATA: "invalidData",
}


def counts_for_api(counts: dict) -> dict:
    """Counts as the API answers them and events carry them: camelCase keys."""
    skipped = counts["skipped"]
    return {
        **{outcome: n for outcome, n in counts.items() if outcome != "skipped"},
        "skipped": {
            "total": skipped["total"],
            **{key: skipped[reason] for reason, key in SKIPPED_KEYS.items()},
        },
    }


def campaign_counts(campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    """Each campaign's counts, in one query: every recipient once, in its current
    outcome (they add up to `total`); skipped ones also by reason."""
    counts = {campaign_id: empty_counts() for campaign_id in campaign_ids}
    groups = (
        CampaignRecipient.objects.filter(campaign_id__in=campaign_ids)
        .values_list("campaign_id", "state", "skip_reason", "held", "message__status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for campaign_id, state, reason, held, message_status, n in groups:
        found = counts[campaign_id]
        found["total"] += n
        outcome = recipient_outcome(state=state, held=held, message_status=message_status)
        if outcome == "skipped":
            found["skipped"]["total"] += n
            found["skipped"][reason or SkipReason.INVALID_DATA] += n
        else:
            found[outcome] += n
    return counts


def outcome_filter(outcome: str, prefix: str = "") -> Q:
    """The recipients whose outcome is `outcome` (one of OUTCOMES); `prefix` reaches
    them from another model (e.g. "recipients__" from a campaign)."""

    def q(**lookups: object) -> Q:
        return Q(**{prefix + key: value for key, value in lookups.items()})

    if outcome == "pending":
        return q(state=State.PENDING)
    if outcome == "skipped":
        return q(state=State.SKIPPED)
    created = q(state=State.CREATED)
    if outcome == "scheduled":
        return created & (q(held=True) | q(message__status__in=STATUSES_OF["scheduled"]))
    by_message = created & q(held=False) & q(message__status__in=STATUSES_OF[outcome])
    if outcome == "canceled":
        return q(state=State.CANCELED) | by_message | (created & q(message__isnull=True))
    return by_message


def campaigns_with_counts(queryset: QuerySet) -> QuerySet:
    """The campaigns, each annotated with its counts in the same query (for a page of
    them, as the admin's list shows): read them with counts_of()."""
    aggregates = {"n_total": Count("recipients")}
    for outcome in OUTCOMES:
        aggregates[f"n_{outcome}"] = Count(
            "recipients", filter=outcome_filter(outcome, "recipients__")
        )
    for reason in SkipReason.values:
        aggregates[f"n_skipped_{reason}"] = Count(
            "recipients",
            filter=Q(recipients__state=State.SKIPPED, recipients__skip_reason=reason),
        )
    return queryset.annotate(**aggregates)


def counts_of(campaign: Campaign) -> dict:
    """The counts of a campaign from campaigns_with_counts(), as campaign_counts gives
    them."""
    counts = empty_counts(campaign.n_total)
    for outcome in OUTCOMES:
        if outcome != "skipped":
            counts[outcome] = getattr(campaign, f"n_{outcome}")
    counts["skipped"]["total"] = campaign.n_skipped
    for reason in SkipReason.values:
        counts["skipped"][reason] = getattr(campaign, f"n_skipped_{reason}")
    return counts


def campaign_messages(campaign: Campaign | uuid.UUID, statuses: list[str]) -> QuerySet:
    """The campaign's messages in these delivery statuses."""
    return Message.objects.filter(
        pk__in=CampaignRecipient.objects.filter(campaign=campaign, message__isnull=False).values(
            "message_id"
        ),
        status__in=statuses,
    )
