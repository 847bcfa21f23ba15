"""Operators follow their workspaces' campaigns (a progress bar and counts), read each
recipient's outcome, and pause, resume or cancel. Campaigns are started through the
API; their rows are a record of the list as given: read-only here."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient
from campaigns.selectors import campaigns_with_counts, counts_of, recipient_outcome
from core.errors import ApplicationError
from workspaces.admin import ReadOnlyAdminMixin, WorkspaceScopedAdmin

# What has left (or will never leave) out of the whole list: the bar's share.
DONE = ("sent", "delivered", "failed", "canceled")


@admin.register(Campaign)
class CampaignAdmin(WorkspaceScopedAdmin):
    list_display = ("name", "workspace", "status", "progress", "summary", "send_at", "created_at")
    list_filter = ("status", "workspace")
    search_fields = ("name", "id")
    list_select_related = ("workspace", "flow")
    readonly_fields = (
        "id",
        "workspace",
        "name",
        "flow",
        "autopilot",
        "source",
        "send_at",
        "status",
        "status_reason",
        "progress",
        "summary",
        "recipients_link",
        "started_at",
        "paused_at",
        "completed_at",
        "canceled_at",
        "created_at",
    )
    fields = readonly_fields
    actions = ("pause", "resume", "cancel")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the list comes through the API (JSON or a CSV upload)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return campaigns_with_counts(super().get_queryset(request))

    @admin.display(description="progress")
    def progress(self, campaign: Campaign) -> str:
        counts = counts_of(campaign)
        total = counts["total"] or 1
        done = sum(counts[key] for key in DONE) + counts["skipped"]["total"]
        share = round(100 * done / total)
        return format_html(
            '<div title="{}% done" style="width:140px;background:#e6e6e6;border-radius:3px">'
            '<div style="width:{}%;background:#417690;height:10px;border-radius:3px"></div>'
            "</div><small>{} of {}</small>",
            share,
            share,
            done,
            counts["total"],
        )

    @admin.display(description="counts")
    def summary(self, campaign: Campaign) -> str:
        counts = counts_of(campaign)
        skipped = counts["skipped"]
        return format_html(
            "{} pending, {} draft, {} scheduled, {} sent, {} delivered, {} failed, "
            "{} canceled; {} skipped ({} opted out, {} duplicates, {} invalid addresses, "
            "{} invalid data)",
            counts["pending"],
            counts["draft"],
            counts["scheduled"],
            counts["sent"],
            counts["delivered"],
            counts["failed"],
            counts["canceled"],
            skipped["total"],
            skipped["opted_out"],
            skipped["duplicate"],
            skipped["invalid_address"],
            skipped["invalid_data"],
        )

    @admin.display(description="recipients")
    def recipients_link(self, campaign: Campaign) -> str:
        url = reverse("admin:campaigns_campaignrecipient_changelist")
        return format_html(
            '<a href="{}?campaign__id__exact={}">Each recipient\'s outcome</a>', url, campaign.pk
        )

    def _each(self, request: HttpRequest, queryset: QuerySet, call, verb: str) -> None:
        done = 0
        for campaign in queryset:
            try:
                call(campaign=campaign)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{campaign.name}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{verb} {done} campaign(s).")

    @admin.action(description="Pause selected campaigns", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, services.campaign_pause, "Paused")

    @admin.action(description="Resume selected campaigns", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, services.campaign_resume, "Resumed")

    @admin.action(description="Cancel selected campaigns", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(request, queryset, services.campaign_cancel, "Canceled")


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(ReadOnlyAdminMixin, WorkspaceScopedAdmin):
    list_display = ("position", "campaign", "to", "name", "outcome", "skip_reason", "error")
    list_filter = ("state", "skip_reason", "campaign")
    search_fields = ("to", "name")
    list_select_related = ("campaign", "message")
    fields = (
        "campaign",
        "position",
        "to",
        "name",
        "customer_details",
        "dynamic",
        "outcome",
        "skip_reason",
        "error",
        "conversation",
        "message",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    ordering = ("campaign", "position")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="outcome")
    def outcome(self, row: CampaignRecipient) -> str:
        return recipient_outcome(
            state=row.state,
            held=row.held,
            message_status=row.message.status if row.message_id and row.message else None,
        )
