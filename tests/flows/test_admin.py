import pytest
from django.contrib.auth.models import Permission, User

from flows.models import MessageFlow
from tests.factories import MessageFlowFactory
from workspaces.models import ApiKey


@pytest.fixture
def operator(workspace):
    user = User.objects.create_user("olivia", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["flows", "agents", "workspaces"])
    )
    workspace.operators.add(user)
    return user


def admin_form_data(response) -> dict:
    """The change form's current values, as a browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        bound = form[name].value()
        value = bound if bound is not None else value
        if value is None:
            continue
        if hasattr(value, "strftime"):
            value = value.strftime("%H:%M")
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value
    return data


def test_operator_changes_working_hours_in_the_admin_and_the_api_shows_it(client, owner, operator):
    flow = MessageFlowFactory(workspace=owner.workspace)
    assert client.login(username="olivia", password="pw-for-tests-only")
    url = f"/admin/flows/messageflow/{flow.pk}/change/"
    data = admin_form_data(client.get(url))
    data.update(
        working_hours_enabled="on",
        working_hours_start="08:00",
        working_hours_end="20:00",
        working_hours_timezone="Europe/Berlin",
    )

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    hours = owner.client.get(f"/v1/api/message-flows/{flow.pk}").json()["settings"][
        "responseSettings"
    ]["workingHours"]
    assert hours == {
        "enabled": True,
        "start": "08:00",
        "end": "20:00",
        "timezone": "Europe/Berlin",
        "outOfHoursMessage": "",
    }


def test_admin_refuses_an_unknown_timezone_like_the_api(client, owner, operator):
    flow = MessageFlowFactory(workspace=owner.workspace)
    client.login(username="olivia", password="pw-for-tests-only")
    url = f"/admin/flows/messageflow/{flow.pk}/change/"
    data = {**admin_form_data(client.get(url)), "working_hours_timezone": "Mars/Olympus"}

    response = client.post(url, data)

    assert response.status_code == 200
    assert "not a valid IANA timezone" in str(response.context["adminform"].form.errors)
    flow.refresh_from_db()
    assert flow.working_hours_timezone == "UTC"


def test_operator_sees_only_their_workspaces_flows(client, owner, outsider, operator):
    mine = MessageFlowFactory(workspace=owner.workspace, name="Mine")
    MessageFlowFactory(workspace=outsider.workspace, name="Theirs")
    client.login(username="olivia", password="pw-for-tests-only")

    page = client.get("/admin/flows/messageflow/").content.decode()

    assert "Mine" in page
    assert "Theirs" not in page
    assert client.get(f"/admin/flows/messageflow/{mine.pk}/change/").status_code == 200


def test_admin_actions_activate_deactivate_and_duplicate(admin_client, workspace):
    flow = MessageFlowFactory(workspace=workspace, is_active=False)
    url = "/admin/flows/messageflow/"

    admin_client.post(url, {"action": "activate", "_selected_action": [flow.pk]})
    flow.refresh_from_db()
    assert flow.is_active
    admin_client.post(url, {"action": "duplicate", "_selected_action": [flow.pk]})
    copy = MessageFlow.objects.exclude(pk=flow.pk).get()
    assert copy.name == f"{flow.name} (copy)"
    assert not copy.is_active
    admin_client.post(url, {"action": "deactivate", "_selected_action": [flow.pk]})
    flow.refresh_from_db()
    assert not flow.is_active


def test_adding_an_api_key_in_the_admin_shows_it_once_and_it_works(admin_client, workspace, client):
    response = admin_client.post(
        "/admin/workspaces/apikey/add/",
        {"workspace": workspace.pk, "name": "CRM", "scopes": "read write"},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"] if "New API key" in str(m)]
    assert len(shown) == 1
    raw_key = shown[0].split(": ", 1)[1]
    assert ApiKey.objects.get(name="CRM").prefix in raw_key
    api = client.get(
        "/v1/api/agents",
        HTTP_AUTHORIZATION=f"Bearer {raw_key}",
        HTTP_X_WORKSPACE_ID=str(workspace.pk),
    )
    assert api.status_code == 200
    again = admin_client.get(
        f"/admin/workspaces/apikey/{ApiKey.objects.get(name='CRM').pk}/change/"
    )
    assert raw_key not in again.content.decode()


def test_admin_refuses_working_days_the_api_would_refuse(client, owner, operator):
    flow = MessageFlowFactory(workspace=owner.workspace)
    client.login(username="olivia", password="pw-for-tests-only")
    url = f"/admin/flows/messageflow/{flow.pk}/change/"
    # The days are checkboxes for Monday to Sunday: a day 8 can only be posted by hand.
    data = {**admin_form_data(client.get(url)), "working_hours_days": ["1", "8"]}

    response = client.post(url, data)

    assert response.status_code == 200
    errors = str(response.context["adminform"].form.errors)
    assert "working_hours_days" in errors
    assert "8 is not one of the available choices" in errors
    flow.refresh_from_db()
    assert flow.working_hours_days is None
