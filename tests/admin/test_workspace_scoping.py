"""An operator of one workspace never sees, and cannot link, another workspace's rows in
the admin; a superuser sees every workspace but cannot link two either."""

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db import models
from django.urls import reverse

from campaigns.models import CampaignRecipient
from conversations.models import Conversation, Event, Message
from tests.admin.forms import change_form_data
from webhooks.models import WebhookAttempt, WebhookDelivery
from workspaces.admin import WorkspaceScopedAdmin
from workspaces.models import Workspace

# The pages the Operators group deliberately gives no permission to: workspaces are
# created by superusers; conversations are opened by the API and by inbound traffic;
# messages, events and webhook deliveries and attempts are logs; a campaign's rows are a
# record of its list.
ADD_REFUSED = {
    Workspace,
    Conversation,
    Message,
    Event,
    WebhookDelivery,
    WebhookAttempt,
    CampaignRecipient,
}


def workspace_path(model: type[models.Model], depth: int = 3) -> str | None:
    """The lookup from `model` to the workspace that owns its rows, if any."""
    if model is Workspace:
        return "pk"
    for field in model._meta.concrete_fields if depth else ():
        if field.many_to_one and field.related_model is not model:
            rest = workspace_path(field.related_model, depth - 1)
            if rest:
                return field.name if rest == "pk" else f"{field.name}__{rest}"
    return None


WORKSPACE_MODELS = sorted(
    (model for model in admin.site._registry if workspace_path(model)),
    key=lambda model: model._meta.label,
)


def _url(model: type[models.Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _leaks(page: str, markers: list[str]) -> list[str]:
    return [marker for marker in markers if marker in page]


def test_the_walk_covers_the_workspace_models_registered_in_the_admin():
    labels = {model._meta.label for model in WORKSPACE_MODELS}

    assert {"workspaces.Workspace", "flows.MessageFlow", "webhooks.WebhookAttempt"} <= labels
    assert not any(label.startswith(("auth.", "django_celery_beat.")) for label in labels)


@pytest.mark.parametrize("model", WORKSPACE_MODELS, ids=lambda model: model._meta.label)
def test_operator_sees_none_of_another_workspaces_rows_on_any_admin_page(
    operator_client, world, model
):
    assert isinstance(admin.site.get_model_admin(model), WorkspaceScopedAdmin)
    mine = model._default_manager.filter(**{workspace_path(model): world.mine.workspace.pk})
    assert mine.exists(), f"add a {model.__name__} to tests/admin/conftest.py's world"
    change_url = _url(model, "change", quote(mine.first().pk))
    theirs = world.theirs.markers()

    changelist = operator_client.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert change_url in changelist.content.decode()
    assert _leaks(changelist.content.decode(), theirs) == []

    add = operator_client.get(_url(model, "add"))
    assert add.status_code == (403 if model in ADD_REFUSED else 200)
    assert _leaks(add.content.decode(), theirs) == []

    change = operator_client.get(change_url)
    assert change.status_code == 200
    assert _leaks(change.content.decode(), theirs) == []


def test_operator_cannot_open_another_workspaces_row(operator_client, world):
    url = _url(Conversation, "change", world.theirs.conversation.pk)

    response = operator_client.get(url, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "exist. Perhaps it was deleted?" in response.content.decode()


# (the row of mine, its field, the row of theirs that field is set to)
CROSS_LINKS = [
    ("workspace", "default_flow", "flow"),
    ("flow", "agent", "agent"),
    ("flow", "sender", "sender"),
    ("conversation", "flow", "flow"),
    ("conversation", "agent", "agent"),
    ("conversation", "contact", "contact"),
]


def _post_cross_link(client, world, row: str, field: str, target: str):
    obj = getattr(world.mine, row)
    url = _url(type(obj), "change", obj.pk)
    data = change_form_data(client.get(url))
    before = getattr(obj, f"{field}_id")

    response = client.post(url, {**data, field: str(getattr(world.theirs, target).pk)})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    obj.refresh_from_db()
    assert getattr(obj, f"{field}_id") == before
    # The same form posted back unchanged saves: only the cross link was refused.
    assert client.post(url, data).status_code == 302
    return errors[field]


@pytest.mark.parametrize(("row", "field", "target"), CROSS_LINKS)
def test_operator_cannot_link_another_workspaces_row(operator_client, world, row, field, target):
    errors = _post_cross_link(operator_client, world, row, field, target)

    assert "Select a valid choice" in str(errors)


@pytest.mark.parametrize(("row", "field", "target"), CROSS_LINKS)
def test_superuser_cannot_link_rows_of_two_workspaces_either(
    admin_client, world, row, field, target
):
    errors = _post_cross_link(admin_client, world, row, field, target)

    assert "belongs to another workspace" in str(errors)


def test_only_a_superuser_sees_who_operates_a_workspace(operator_client, admin_client, world):
    url = _url(Workspace, "change", world.mine.workspace.pk)

    mine = operator_client.get(url)
    theirs = admin_client.get(url)

    assert "operators" not in mine.context["adminform"].form.fields
    assert 'name="operators"' not in mine.content.decode()
    assert "operators" in theirs.context["adminform"].form.fields
    assert 'name="operators"' in theirs.content.decode()


def test_operator_can_neither_add_nor_delete_a_workspace(operator_client, world):
    workspace = world.mine.workspace

    assert operator_client.get(_url(Workspace, "add")).status_code == 403
    assert operator_client.get(_url(Workspace, "delete", workspace.pk)).status_code == 403
    assert Workspace.objects.filter(pk=workspace.pk).exists()


def test_superuser_list_filters_offer_every_workspaces_rows(admin_client, operator_client, world):
    url = _url(Conversation, "changelist")

    every = admin_client.get(url).content.decode()
    own = operator_client.get(url).content.decode()

    assert world.mine.flow.name in every
    assert world.theirs.flow.name in every
    assert world.mine.flow.name in own
    assert world.theirs.flow.name not in own


def test_operator_changes_a_flow_and_its_agent_within_their_workspace(operator_client, world):
    flow = world.mine.flow
    other_agent = type(world.mine.agent).objects.create(
        workspace=world.mine.workspace, name="alpha-second-agent"
    )
    url = _url(type(flow), "change", flow.pk)
    data = change_form_data(operator_client.get(url))

    response = operator_client.post(url, {**data, "agent": str(other_agent.pk)})

    assert response.status_code == 302
    flow.refresh_from_db()
    assert flow.agent_id == other_agent.pk
