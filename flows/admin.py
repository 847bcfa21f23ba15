from functools import lru_cache
from zoneinfo import available_timezones

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from flows.models import MessageFlow
from flows.placeholders import placeholders_in, render
from flows.services import flow_duplicate, flows_set_active
from flows.working_hours import validate_timezone
from workspaces.admin import WorkspaceScopedAdmin

WEEKDAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (7, "Sun")]
EVERY_DAY = [day for day, _ in WEEKDAYS]
# What the preview fills customer placeholders with; a dynamic value shows as its name,
# unless the placeholder has a default, which then shows as it would.
SAMPLE_CUSTOMER = {
    "name": "Alex Sample",
    "firstName": "Alex",
    "lastName": "Sample",
    "phone": "+14155550123",
    "email": "alex@example.com",
}


# Times as the API takes them, 24-hour "HH:MM", whatever the browser's locale.
HHMM = {"size": 5, "placeholder": "HH:MM", "pattern": "[0-2][0-9]:[0-5][0-9]"}


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    """The IANA zones the validator accepts, for the form's searchable list."""
    zones = []
    for name in sorted(available_timezones()):
        try:
            zones.append(validate_timezone(name))
        except ValueError:
            pass
    return zones


def preview(template: str) -> str:
    dynamic = {
        p.key: f"[{p.key}]"
        for p in placeholders_in(template)
        if p.scope == "dynamic" and p.default is None
    }
    return render(template, customer=SAMPLE_CUSTOMER, dynamic=dynamic)


class TimeZoneInput(forms.TextInput):
    """A text box with the IANA zones as suggestions (an HTML datalist): type "Lon" and
    pick Europe/London. The model's validator still refuses anything else."""

    def render(self, name, value, attrs=None, renderer=None) -> str:
        list_id = f"{(attrs or {}).get('id', name)}-zones"
        attrs = {**(attrs or {}), "list": list_id, "autocomplete": "off"}
        options = "".join(f'<option value="{zone}">' for zone in time_zones())
        box = super().render(name, value, attrs, renderer)
        # The zone names come from the tz database, not from anyone's input.
        options = mark_safe(options)  # noqa: S308
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


class MessageFlowForm(forms.ModelForm):
    working_hours_days = forms.TypedMultipleChoiceField(
        label="Working days",
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "weekday-boxes"}),
        help_text="The days the window opens on.",
    )

    class Meta:
        model = MessageFlow
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets pick the fields shown
        widgets = {
            "working_hours_start": forms.TimeInput(format="%H:%M", attrs=HHMM),
            "working_hours_end": forms.TimeInput(format="%H:%M", attrs=HHMM),
            "working_hours_timezone": TimeZoneInput(attrs={"size": 30}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "working_hours_days" in self.fields and not self.initial.get("working_hours_days"):
            self.initial["working_hours_days"] = EVERY_DAY  # stored as empty: every day

    def clean_working_hours_days(self) -> list[int] | None:
        days = sorted(set(self.cleaned_data["working_hours_days"]))
        if not days:
            raise forms.ValidationError("Tick at least one day.")
        return None if days == EVERY_DAY else days


@admin.register(MessageFlow)
class MessageFlowAdmin(WorkspaceScopedAdmin):
    form = MessageFlowForm
    list_display = (
        "name",
        "workspace",
        "message_channel",
        "direction",
        "is_active",
        "autopilot",
        "agent",
        "updated_at",
    )
    list_filter = (
        "is_active",
        "autopilot",
        "message_channel",
        "direction",
        "hipaa_compliance",
        "agent",
        "workspace",
    )
    search_fields = ("name", "description", "prompt", "workspace__name")
    readonly_fields = ("id", "created_at", "updated_at", "initiation_preview", "try_it")
    actions = ("activate", "deactivate", "duplicate")
    fieldsets = (
        (
            "General",
            {
                "fields": (
                    "id",
                    "workspace",
                    "name",
                    "description",
                    "direction",
                    "message_channel",
                    "is_active",
                    "autopilot",
                    "created_at",
                    "updated_at",
                )
            },
        ),
        (
            "Agent and prompt",
            {
                "fields": (
                    "agent",
                    "prompt",
                    "initiation_message",
                    "initiation_preview",
                    "try_it",
                )
            },
        ),
        ("Delivery", {"fields": ("sender", "human_takeover_minutes")}),
        (
            "Timing and working hours",
            {
                "fields": (
                    "reply_delay_seconds",
                    "working_hours_enabled",
                    ("working_hours_start", "working_hours_end"),
                    "working_hours_timezone",
                    "working_hours_days",
                    "out_of_hours_message",
                )
            },
        ),
        ("Email", {"fields": ("email_subject_line", "email_signature")}),
        ("Security", {"fields": ("hipaa_compliance",)}),
    )

    class Media:
        js = ("flows/flow_form.js",)
        css = {"all": ("flows/flow_form.css",)}

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.preview_view)
        return [path("preview/", view, name="flows_messageflow_preview"), *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """The initiation message with placeholders filled from sample values (the form's
        live preview asks as the operator types)."""
        if not self.has_view_or_change_permission(request):
            return JsonResponse({"error": "forbidden"}, status=403)
        template = request.GET.get("text", "")[:5000]
        names = [p.name for p in placeholders_in(template)]
        return JsonResponse({"preview": preview(template), "placeholders": names})

    @admin.display(description="Preview")
    def initiation_preview(self, obj: MessageFlow | None) -> str:
        text = preview(obj.initiation_message) if obj and obj.pk else ""
        return format_html(
            '<div class="flow-preview" data-preview-url="{}">{}</div>'
            '<div class="help">With sample values: {} for customer fields, '
            "[name] for dynamic ones.</div>",
            reverse(f"{self.admin_site.name}:flows_messageflow_preview"),
            text,
            SAMPLE_CUSTOMER["name"],
        )

    @admin.display(description="Try it")
    def try_it(self, obj: MessageFlow | None) -> str:
        if not (obj and obj.pk):
            return "Save the flow first."
        return format_html(
            '<a class="button" href="{}">Chat with {} as a customer</a>'
            '<div class="help">The real model, in a sandbox: nothing is sent to anyone.</div>',
            reverse(f"{self.admin_site.name}:inbox_try_flow", args=[obj.pk]),
            obj.agent.name if obj.agent_id else "the agent",
        )

    @admin.action(description="Activate selected flows", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=True)

    @admin.action(description="Deactivate selected flows", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_active(request, queryset, active=False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet, *, active: bool) -> None:
        changed = 0
        for workspace_id in queryset.values_list("workspace_id", flat=True).distinct():
            ids = list(queryset.filter(workspace_id=workspace_id).values_list("pk", flat=True))
            changed += flows_set_active(workspace_id=workspace_id, flow_ids=ids, active=active)
        self.message_user(request, f"{'Activated' if active else 'Deactivated'} {changed} flow(s).")

    @admin.action(
        description="Duplicate selected flows (copies start inactive)", permissions=["add"]
    )
    def duplicate(self, request: HttpRequest, queryset: QuerySet) -> None:
        copies = [flow_duplicate(flow=flow) for flow in queryset.select_related("workspace")]
        self.message_user(request, f"Created {len(copies)} inactive cop(ies).")
