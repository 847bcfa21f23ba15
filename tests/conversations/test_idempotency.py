from conversations.models import Message
from tests.factories import ConversationFactory
from workspaces.models import IdempotencyRecord

URL = "/v1/messages"


def payload(conversation) -> dict:
    return {
        "conversation_id": str(conversation.pk),
        "sender_id": "u1",
        "sender_type": "user",
        "text": "Hello",
        "auto_reply": False,
    }


def test_same_key_and_body_replays_the_first_answer_without_doing_the_work_again(
    api_client, workspace
):
    conversation = ConversationFactory(workspace=workspace)

    first = api_client.post(URL, payload(conversation), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api_client.post(URL, payload(conversation), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Message.objects.count() == 1


def test_same_key_with_another_body_is_422(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    api_client.post(URL, payload(conversation), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    response = api_client.post(
        URL, {**payload(conversation), "text": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Message.objects.count() == 1


def test_a_key_still_in_flight_is_409(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    from workspaces.idempotency import request_fingerprint

    body = api_client._encode_data(payload(conversation), format="json")[0]
    IdempotencyRecord.objects.create(
        workspace=workspace, key="k-1", request_hash=request_fingerprint("POST", URL, body)
    )

    response = api_client.post(
        URL, payload(conversation), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_flight"
    assert not Message.objects.exists()


def test_keys_are_scoped_to_the_workspace(owner, outsider):
    mine = ConversationFactory(workspace=owner.workspace)
    theirs = ConversationFactory(workspace=outsider.workspace)

    owner.client.post(URL, payload(mine), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = outsider.client.post(
        URL, payload(theirs), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )

    assert response.status_code == 201
    assert response.json()["data"]["conversation_id"] == str(theirs.pk)
    assert Message.objects.filter(conversation=theirs).count() == 1


def test_an_error_answer_is_replayed_too_but_a_server_error_is_not_kept(api_client):
    first = api_client.post(URL, {"sender_id": "u"}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    second = api_client.post(URL, {"sender_id": "u"}, format="json", HTTP_IDEMPOTENCY_KEY="bad")

    assert first.status_code == second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"


def test_idempotency_applies_to_the_v1_api_routes_too(api_client):
    first = api_client.post(
        "/v1/api/agents", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="agent-1"
    )
    second = api_client.post(
        "/v1/api/agents", {"name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="agent-1"
    )

    assert first.json()["_id"] == second.json()["_id"]


def test_a_key_is_free_again_after_a_server_error(api_client, workspace, monkeypatch):
    from conversations import services

    conversation = ConversationFactory(workspace=workspace)
    api_client.raise_request_exception = False

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    with monkeypatch.context() as patch:
        patch.setattr(services, "_new_message", crash)
        failed = api_client.post(
            URL, payload(conversation), format="json", HTTP_IDEMPOTENCY_KEY="k-9"
        )
    retried = api_client.post(URL, payload(conversation), format="json", HTTP_IDEMPOTENCY_KEY="k-9")

    assert failed.status_code == 500
    assert retried.status_code == 201


def test_a_stored_answer_is_sealed_at_rest_and_replayed_in_clear(owner, settings):
    """A webhook endpoint's secret is shown once: its replayable answer must not rest in
    the database in clear (nor may message text of a HIPAA flow)."""
    from workspaces.models import IdempotencyRecord

    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-hook-1"}
    body = {"url": "http://127.0.0.1:9/hook"}

    first = owner.client.post("/v1/webhooks", body, format="json", **headers)
    again = owner.client.post("/v1/webhooks", body, format="json", **headers)

    secret = first.json()["secret"]
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    stored = IdempotencyRecord.objects.get(key="create-hook-1").body
    assert secret not in str(stored)
    assert "127.0.0.1" not in str(stored)
