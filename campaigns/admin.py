"""Operators follow their workspaces' campaigns (a progress bar and counts), read each
recipient's outcome, start campaigns from a CSV, and pause, resume or cancel them (list
actions, and buttons on a campaign's page where the step applies). A campaign's rows are
a record of the list as given: read-only here.

Starting, in two steps on the "Add campaign" page (`add_view`):
1. The operator picks the workspace, a name, one of its active flows, the CSV, an
   optional send time and autopilot (off by default: messages wait as drafts, as in the
   API). The file is read with the API's reader (campaigns.rows.rows_from_csv) and
   checked with services.campaign_preview: the number of rows, each bad row and why,
   and the first good rows' messages rendered as the send renders them.
2. "Start campaign" creates it with services.campaign_create, as `POST /v1/api/campaigns`
   does (same events, workers and counts), and opens its page.

Between the two steps the file is kept, as uploaded (at most CAMPAIGN_UPLOAD_MAX_BYTES),
in the cache (Redis, or the file cache the processes share) for UPLOAD_KEPT seconds,
under a random key bound to the operator; the preview's form carries only that key and
the form's fields, which are validated again on start. Not the session (a database row
here: 16 MiB would not belong there), and no campaign row before start (the model has no
"not yet started" state, and the workers would take a scheduled one)."""

import secrets
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns import services
from campaigns.forms import CampaignStartForm
from campaigns.models import Campaign, CampaignRecipient
from campaigns.rows import rows_from_csv
from campaigns.selectors import campaigns_with_counts, counts_of, recipient_outcome
from core.errors import ApplicationError
from workspaces.admin import ReadOnlyAdminMixin, WorkspaceScopedAdmin

# What has left (or will never leave) out of the whole list: the bar's share.
DONE = ("sent", "delivered", "failed", "canceled")
START_FIELDSETS = [
    (None, {"fields": ["workspace", "name", "flow", "file", "send_at", "autopilot"]})
]
# How long an upload waits between its preview and "Start campaign".
UPLOAD_KEPT = 3600

# The buttons of a campaign's page: (step, label, the states it applies in, the service,
# what the operator is told).
STEPS = {
    "pause": (
        "Pause",
        services.PAUSABLE,
        services.campaign_pause,
        "Paused: nothing more leaves until you resume it.",
    ),
    "resume": (
        "Resume",
        services.RESUMABLE,
        services.campaign_resume,
        "Resumed: what was held leaves again.",
    ),
    "cancel": (
        "Cancel campaign",
        services.CANCELABLE,
        services.campaign_cancel,
        "Canceled: no more messages are made and those not yet sent are canceled.",
    ),
}


def _upload_key(request: HttpRequest, token: str) -> str:
    return f"campaigns:admin-upload:{request.user.pk}:{token}"


def _keep(request: HttpRequest, content: bytes) -> str:
    token = secrets.token_urlsafe(24)
    cache.set(_upload_key(request, token), content, UPLOAD_KEPT)
    return token


def _kept(request: HttpRequest, token: str) -> bytes | None:
    return cache.get(_upload_key(request, token)) if token else None


def _field_of(exc: ApplicationError) -> str:
    """Which field of the form an error of the services is about."""
    return "flow" if exc.code == "not_found" or exc.code.startswith("flow") else "file"


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

    def get_urls(self) -> list:
        opts = self.model._meta
        return [
            path(
                f"<path:object_id>/{step}/",
                self.admin_site.admin_view(self.step_view),
                {"step": step},
                name=f"{opts.app_label}_{opts.model_name}_{step}",
            )
            for step in STEPS
        ] + super().get_urls()

    # --- Starting a campaign: upload, preview, start ---------------------------------

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._start_page(
                request, CampaignStartForm(request=request, initial=_initial(request))
            )
        form = CampaignStartForm(request.POST, request.FILES, request=request)
        if not form.is_valid():
            return self._start_page(request, form)
        data = form.cleaned_data
        token = data["upload"]
        content = data["file"].read() if data["file"] else _kept(request, token)
        if content is None:
            form.add_error("file", "The upload has expired: choose the file again.")
            return self._start_page(request, form)
        try:
            rows = rows_from_csv(content)
            if "_start" not in request.POST:
                preview = services.campaign_preview(
                    workspace=data["workspace"], flow_id=data["flow"].pk, rows=rows
                )
            else:
                campaign = services.campaign_create(
                    workspace=data["workspace"],
                    name=data["name"],
                    flow_id=data["flow"].pk,
                    rows=rows,
                    send_at=data["send_at"],
                    autopilot=data["autopilot"],
                    source=Campaign.Source.CSV,
                )
        except ApplicationError as exc:
            form.add_error(_field_of(exc), exc.message)
            return self._start_page(request, form)
        if "_start" in request.POST:
            cache.delete(_upload_key(request, token))
            self.message_user(
                request,
                f"Campaign “{campaign.name}” created with {campaign.total} rows: the rows are "
                "being checked, then it starts.",
                messages.SUCCESS,
            )
            return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
        if data["file"]:
            token = _keep(request, content)
        start = CampaignStartForm(initial={**data, "upload": token}, request=request)
        return self._page(
            request,
            "admin/campaigns/campaign/preview.html",
            "Check and start the campaign",
            {
                "preview": preview,
                "data": data,
                "start_form": start,
                "back_url": "?" + urlencode(_back(data)),
            },
        )

    def _start_page(self, request: HttpRequest, form: CampaignStartForm) -> TemplateResponse:
        return self._page(
            request,
            "admin/campaigns/campaign/start.html",
            "Add campaign",
            {
                "adminform": helpers.AdminForm(form, START_FIELDSETS, prepopulated_fields={}),
                "media": self.media + form.media,
            },
        )

    def _page(
        self, request: HttpRequest, template: str, title: str, extra: dict
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }
        return TemplateResponse(request, template, context)

    # --- A campaign's page: pause, resume, cancel ------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        campaign = self.get_object(request, object_id)
        steps = []
        if campaign is not None and self.has_change_permission(request, campaign):
            steps = [
                (step, label, reverse(f"admin:campaigns_campaign_{step}", args=[campaign.pk]))
                for step, (label, states, _, _) in STEPS.items()
                if campaign.status in states
            ]
        context = {
            **(extra_context or {}),
            "campaign_steps": steps,
            # Every field is read-only: there is nothing to save.
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, context)

    def step_view(self, request: HttpRequest, object_id: str, step: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = self.get_object(request, object_id)
        if campaign is None:
            raise Http404("No such campaign.")
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        _, _, call, done = STEPS[step]
        try:
            call(campaign=campaign)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

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


def _initial(request: HttpRequest) -> dict:
    """The start form's fields as the preview's Back link gives them."""
    initial = {key: request.GET[key] for key in ("workspace", "name", "flow") if key in request.GET}
    if request.GET.get("autopilot") == "1":
        initial["autopilot"] = True
    return initial


def _back(data: dict) -> dict:
    back = {"workspace": data["workspace"].pk, "name": data["name"], "flow": data["flow"].pk}
    return {**back, "autopilot": "1"} if data["autopilot"] else back
