"""GET and PATCH /v1/api/workspace: the key's workspace, its default flow and HELP text."""

from conversations.models import Conversation
from tests.factories import MessageFlowFactory

URL = "/v1/api/workspace"


def test_get_answers_the_keys_workspace_in_camel_case(owner):
    response = owner.client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"_id", "name", "defaultFlow", "helpText", "createdAt", "updatedAt"}
    assert body["_id"] == str(owner.workspace.pk)
    assert body["name"] == owner.workspace.name
    assert body["defaultFlow"] is None
    assert body["createdAt"].endswith("Z")


def test_the_workspace_header_is_required(owner, client):
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {owner.key}")

    assert response.status_code == 400
    assert response.json()["code"] == "workspace_header_missing"


def test_naming_another_workspace_in_the_header_is_403(owner, outsider, client):
    response = client.patch(
        URL,
        {"name": "Taken over"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {outsider.key}",
        HTTP_X_WORKSPACE_ID=str(owner.workspace.pk),
    )

    assert response.status_code == 403
    owner.workspace.refresh_from_db()
    assert owner.workspace.name != "Taken over"


def test_patch_sets_the_default_flow_to_a_flow_of_the_workspace(owner):
    flow = MessageFlowFactory(workspace=owner.workspace)

    response = owner.client.patch(URL, {"defaultFlow": str(flow.pk)}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["defaultFlow"] == str(flow.pk)
    owner.workspace.refresh_from_db()
    assert owner.workspace.default_flow == flow


def test_patch_null_clears_the_default_flow(owner):
    owner.workspace.default_flow = MessageFlowFactory(workspace=owner.workspace)
    owner.workspace.save()

    response = owner.client.patch(URL, {"defaultFlow": None}, format="json")

    assert response.status_code == 200
    assert response.json()["defaultFlow"] is None
    owner.workspace.refresh_from_db()
    assert owner.workspace.default_flow is None


def test_outsider_flow_is_refused_as_if_it_did_not_exist(owner, outsider):
    theirs = MessageFlowFactory(workspace=outsider.workspace)

    response = owner.client.patch(URL, {"defaultFlow": str(theirs.pk)}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == ["defaultFlow"]
    assert "defaultFlow" in body["message"]
    owner.workspace.refresh_from_db()
    assert owner.workspace.default_flow is None


def test_a_malformed_flow_id_is_a_400_naming_the_field(owner):
    for value in ("not-a-uuid", 12, {"_id": "x"}):
        response = owner.client.patch(URL, {"defaultFlow": value}, format="json")

        assert response.status_code == 400, value
        assert list(response.json()["errors"]) == ["defaultFlow"]


def test_patch_changes_name_and_help_text_only(owner):
    flow = MessageFlowFactory(workspace=owner.workspace)
    owner.workspace.default_flow = flow
    owner.workspace.save()

    response = owner.client.patch(
        URL, {"name": "Sunrise Dental", "helpText": "Call (415) 555-0100."}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["helpText"], body["defaultFlow"]) == (
        "Sunrise Dental",
        "Call (415) 555-0100.",
        str(flow.pk),
    )
    owner.workspace.refresh_from_db()
    assert owner.workspace.help_text == "Call (415) 555-0100."


def test_unknown_fields_are_refused(owner):
    response = owner.client.patch(URL, {"defaultFlowId": None}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Field 'defaultFlowId' is not recognised."


def test_json_types_are_taken_as_they_are(owner):
    for body in ({"name": 12}, {"name": ""}, {"name": None}, {"helpText": False}):
        response = owner.client.patch(URL, body, format="json")

        assert response.status_code == 400, body
        assert list(response.json()["errors"]) == list(body), body


def test_a_get_body_can_be_sent_back(owner):
    body = owner.client.get(URL).json()

    response = owner.client.patch(URL, {**body, "name": "Renamed"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["_id"] == str(owner.workspace.pk)
    assert response.json()["name"] == "Renamed"


def test_a_read_only_key_reads_but_cannot_patch(read_only):
    assert read_only.client.get(URL).status_code == 200

    response = read_only.client.patch(URL, {"name": "Nope"}, format="json")

    assert response.status_code == 403


def test_other_methods_are_not_allowed(owner):
    for method in ("post", "put", "delete"):
        response = getattr(owner.client, method)(URL, {}, format="json")

        assert response.status_code == 405, method
        assert response.json()["code"] == "method_not_allowed"


def test_send_message_opens_conversations_in_the_default_flow_set_here(owner):
    flow = MessageFlowFactory(workspace=owner.workspace)
    owner.client.patch(URL, {"defaultFlow": str(flow.pk)}, format="json")

    response = owner.client.post(
        "/v1/messages",
        {"sender_id": "usr_1", "sender_type": "user", "text": "Hi", "auto_reply": False},
        format="json",
    )

    assert response.status_code == 201, response.json()
    conversation = Conversation.objects.get(pk=response.json()["data"]["conversation_id"])
    assert conversation.flow == flow
