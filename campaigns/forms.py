"""The admin's form for starting a campaign from a CSV upload (campaigns.admin)."""

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminSplitDateTime
from django.http import HttpRequest

from flows.models import Direction, MessageFlow
from workspaces.admin import scope_to_operator
from workspaces.models import Workspace


class FlowChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, flow: MessageFlow) -> str:
        return f"{flow.name} ({flow.workspace.name})"


class CampaignStartForm(forms.Form):
    """What `POST /v1/api/campaigns` takes as a CSV upload, for an operator: only their
    workspaces and those workspaces' active flows are offered, or accepted. The file is
    given once; the preview's Start button carries `upload`, the key it was kept under."""

    workspace = forms.ModelChoiceField(queryset=Workspace.objects.none())
    name = forms.CharField(max_length=200)
    flow = FlowChoiceField(
        queryset=MessageFlow.objects.none(),
        help_text="Active flows that open conversations; each recipient gets its opening message.",
    )
    file = forms.FileField(
        required=False,
        label="CSV file",
        # The admin renders help texts as HTML.
        help_text="A header row, then one row per recipient. Columns: <code>to</code> "
        "(required), <code>name</code>, <code>timezone</code>, <code>customer.&lt;key&gt;"
        "</code>, <code>dynamic.&lt;key&gt;</code> (the flow's placeholders).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    send_at = forms.SplitDateTimeField(
        required=False,
        label="Send at",
        widget=AdminSplitDateTime,
        help_text="Empty: as soon as the list is checked.",
    )
    autopilot = forms.BooleanField(
        required=False,
        help_text="Send without review. Off: every message waits as a draft for approval.",
    )
    upload = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, request: HttpRequest, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        workspaces = scope_to_operator(Workspace.objects.order_by("name"), request)
        self.fields["workspace"].queryset = workspaces
        self.fields["flow"].queryset = scope_to_operator(
            MessageFlow.objects.filter(is_active=True)
            .exclude(direction=Direction.INBOUND)
            .select_related("workspace")
            .order_by("workspace__name", "name"),
            request,
        )
        if "workspace" not in self.initial and len(choices := list(workspaces[:2])) == 1:
            self.initial["workspace"] = choices[0].pk

    def clean_file(self) -> object:
        file = self.cleaned_data.get("file")
        limit = settings.CAMPAIGN_UPLOAD_MAX_BYTES
        if file is not None and file.size > limit:
            raise forms.ValidationError(f"The file is larger than {limit // 1_048_576} MiB.")
        return file

    def clean(self) -> dict:
        data = super().clean()
        workspace, flow = data.get("workspace"), data.get("flow")
        if workspace and flow and flow.workspace_id != workspace.pk:
            self.add_error("flow", f"This flow is not {workspace.name}'s: pick one of its own.")
        if not data.get("file") and not data.get("upload") and "file" not in self.errors:
            self.add_error("file", "Choose a CSV file.")
        return data
