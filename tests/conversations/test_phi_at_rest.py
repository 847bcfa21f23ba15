"""PHI and secrets at rest: what a HIPAA conversation holds (message text and metadata,
the conversation's context, the contact's name and details, a campaign row's customer
data) and the webhook signing secrets are sealed in the database, and read in clear by
whoever may see them: the API, the admin and the operator console.

The last tests drive a HIPAA conversation through the HTTP API and the Twilio webhook
and then read every row of every table: none of its words may be there."""

import logging

import pytest
from django.conf import settings
from django.db import connection

from campaigns.models import CampaignRecipient
from channels.models import Sender
from conversations.models import Contact, Conversation, Message
from conversations.services import conversation_create
from tests.factories import MessageFlowFactory
from webhooks.models import WebhookEndpoint

GENERATE = "/v1/api/conversations/message/generate"
TWILIO_SMS = "/v1/webhooks/twilio/sms"
CUSTOMER = "+14155550123"
OUR_NUMBER = "+14155550100"


def stored(model: type, pk: object, column: str) -> str:
    """A column as the database holds it, past the field that opens it."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        key = model._meta.pk.get_db_prep_value(pk, connection)  # SQLite keeps UUIDs as hex
        cursor.execute(f"SELECT CAST({column} AS TEXT) FROM {table} WHERE id = %s", [key])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def hipaa_flow(workspace):
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        hipaa_compliance=True,
        initiation_message="Hi {{customer.name}}, about {{dynamic.topic}}.",
    )


def test_the_generate_endpoint_seals_the_customer_and_the_context_and_shows_them(
    api_client, hipaa_flow
):
    response = api_client.post(
        GENERATE,
        {
            "flowId": str(hipaa_flow.pk),
            "to": CUSTOMER,
            "metadata": {"customerDetails": {"name": "Imogen Quill", "dob": "1911-02-03"}},
            "dynamic": {"topic": "your oncology referral"},
            "autopilot": False,
        },
        format="json",
    )

    assert response.status_code == 201
    contact = Contact.objects.get()
    conversation = Conversation.objects.get()
    assert contact.hipaa
    for column in ("name", "metadata"):
        assert "Imogen" not in stored(Contact, contact.pk, column)
        assert "1911" not in stored(Contact, contact.pk, column)
    assert "oncology" not in stored(Conversation, conversation.pk, "context")
    assert contact.name == "Imogen Quill"
    assert contact.metadata == {"customerDetails": {"name": "Imogen Quill", "dob": "1911-02-03"}}
    assert conversation.context == {"dynamic": {"topic": "your oncology referral"}}
    shown = api_client.get(f"/v1/conversations/{conversation.pk}").json()
    assert shown["context"] == {"dynamic": {"topic": "your oncology referral"}}
    assert shown["contact"]["name"] == "Imogen Quill"


def test_a_contact_of_a_plain_flow_stays_in_clear(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace, is_active=True)

    api_client.post(
        GENERATE,
        {"flowId": str(flow.pk), "to": CUSTOMER, "metadata": {"customerDetails": {"name": "Sam"}}},
        format="json",
    )

    contact = Contact.objects.get()
    assert not contact.hipaa
    assert stored(Contact, contact.pk, "name") == "Sam"


def test_message_metadata_is_sealed_but_the_ids_the_console_queries_stay_readable(
    api_client, hipaa_flow
):
    conversation = conversation_create(workspace=hipaa_flow.workspace, flow=hipaa_flow)

    response = api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "user", "content": "hello", "metadata": {"mrn": "MRN-443322"}},
        format="json",
    )

    message = Message.objects.get()
    assert "MRN-443322" not in stored(Message, message.pk, "metadata")
    assert response.json()["message"]["metadata"] == {"mrn": "MRN-443322"}
    listed = api_client.get(f"/v1/conversations/{conversation.pk}/messages").json()
    assert listed["results"][0]["metadata"] == {"mrn": "MRN-443322"}


def test_a_hipaa_campaigns_rows_are_sealed_and_read_back(api_client, hipaa_flow):
    response = api_client.post(
        "/v1/api/campaigns",
        {
            "name": "Recall",
            "flowId": str(hipaa_flow.pk),
            "recipients": [
                {
                    "to": CUSTOMER,
                    "metadata": {"customerDetails": {"name": "Perpetua Lind"}},
                    "dynamic": {"topic": "a colonoscopy recall"},
                }
            ],
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    row = CampaignRecipient.objects.get()
    for column in ("name", "customer_details", "dynamic"):
        assert "Perpetua" not in stored(CampaignRecipient, row.pk, column)
        assert "colonoscopy" not in stored(CampaignRecipient, row.pk, column)
    assert row.name == "Perpetua Lind"
    assert row.dynamic == {"topic": "a colonoscopy recall"}


def test_webhook_signing_secrets_are_sealed_and_still_sign(api_client):
    created = api_client.post(
        "/v1/webhooks", {"url": "https://example.com/hook"}, format="json"
    ).json()
    endpoint = WebhookEndpoint.objects.get()

    rotated = api_client.post(f"/v1/webhooks/{endpoint.pk}/rotate-secret").json()

    endpoint.refresh_from_db()
    assert created["secret"] not in stored(WebhookEndpoint, endpoint.pk, "previous_secret")
    assert rotated["secret"] not in stored(WebhookEndpoint, endpoint.pk, "secret")
    assert endpoint.secret == rotated["secret"]
    assert endpoint.previous_secret == created["secret"]


# --- The whole database, after a HIPAA conversation through the API and the edges -----

MARKERS = {
    "customer name": "Quintessa Marrowfield",
    "customer detail": "birthdate-1911-07-19",
    "dynamic value": "dynamic-oncology-referral",
    "message text": "text-my-biopsy-came-back",
    "message metadata": "metadata-mrn-55501234",
    "context": "context-allergic-to-penicillin",
    "inbound sms": "inbound-my-chemo-starts-friday",
}


def database_text() -> str:
    """Every row of every table, as PostgreSQL writes a row as text (every column)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        rows = []
        for table in tables:
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT t::text FROM {name} AS t")  # noqa: S608 - catalogue names
            rows.extend(row[0] for row in cursor.fetchall())
    assert len(tables) > 20
    assert rows
    return "\n".join(rows)


def leaks(text: str) -> list[str]:
    """Which markers the text holds, by what they are."""
    return [what for what, marker in MARKERS.items() if marker.lower() in text.lower()]


@pytest.fixture
def sms_flow(workspace, fake_twilio, fake_anthropic, celery_eager, settings):
    settings.REPLY_SWEEP_GRACE = 0
    sender = Sender.objects.create(
        workspace=workspace, channel="SMS", address=OUR_NUMBER, is_default=True
    )
    return MessageFlowFactory(
        workspace=workspace,
        is_active=True,
        autopilot=True,
        direction="bidirectional",
        sender=sender,
        reply_delay_seconds=0,
        hipaa_compliance=True,
        initiation_message="Hi {{customer.name}}, about {{dynamic.topic}}.",
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_word_of_a_hipaa_conversation_is_left_readable_in_the_database(
    sms_flow, api_client, client, fake_twilio, fake_anthropic, caplog
):
    api = api_client
    caplog.set_level(logging.DEBUG)
    seed = {
        "flowId": str(sms_flow.pk),
        "to": CUSTOMER,
        "metadata": {
            "customerDetails": {
                "name": MARKERS["customer name"],
                "birthdate": MARKERS["customer detail"],
            }
        },
        "dynamic": {"topic": MARKERS["dynamic value"]},
        "autopilot": True,
    }

    generated = api.post(GENERATE, seed, format="json", HTTP_IDEMPOTENCY_KEY="phi-1")
    replayed = api.post(GENERATE, seed, format="json", HTTP_IDEMPOTENCY_KEY="phi-1")
    conversation_id = generated.json()["conversation_id"]
    opened = api.get(f"/v1/conversations/{conversation_id}").json()
    # Looked at now too: a later write of the same row would hide a leak of this one.
    leaked_by_generate = leaks(database_text())
    posted = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        {
            "role": "user",
            "content": MARKERS["message text"],
            "metadata": {"mrn": MARKERS["message metadata"]},
            "action": "generate-reply",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="phi-2",
    )
    state = api.post(
        f"/v1/conversations/{conversation_id}/messages",
        {
            "role": "control",
            "stateAfter": {"context": {**opened["context"], "allergy": MARKERS["context"]}},
        },
        format="json",
    )
    params = {
        "From": CUSTOMER,
        "To": OUR_NUMBER,
        "Body": MARKERS["inbound sms"],
        "MessageSid": "SM" + "7" * 32,
    }
    inbound = client.post(
        TWILIO_SMS,
        params,
        HTTP_X_TWILIO_SIGNATURE=fake_twilio.sign(f"{settings.PUBLIC_BASE_URL}{TWILIO_SMS}", params),
    )

    # What the people who may see it see: all of it, in clear.
    assert generated.status_code == 201, generated.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == generated.json()
    assert MARKERS["customer name"] in generated.json()["message"]
    assert posted.status_code == 201, posted.json()
    assert state.status_code == 201, state.json()
    assert inbound.status_code == 200
    listed = api.get(f"/v1/conversations/{conversation_id}/messages", {"limit": 100})
    messages = listed.json()["results"]
    contents = [m["content"] for m in messages]
    assert f"Fake reply to: {MARKERS['message text']}" in contents
    assert MARKERS["inbound sms"] in contents
    assert f"Fake reply to: {MARKERS['inbound sms']}" in contents
    assert {"mrn": MARKERS["message metadata"]} in [m["metadata"] for m in messages]
    assert opened["context"] == {"dynamic": {"topic": MARKERS["dynamic value"]}}
    shown = api.get(f"/v1/conversations/{conversation_id}").json()
    assert shown["context"] == {
        "dynamic": {"topic": MARKERS["dynamic value"]},
        "allergy": MARKERS["context"],
    }
    assert shown["contact"]["name"] == MARKERS["customer name"]
    assert len(fake_twilio.messages) == 3  # the opening message and the two replies

    # What anyone with a copy of the database, or the logs, sees: none of it.
    assert leaked_by_generate == []
    assert leaks(database_text()) == []
    assert leaks(caplog.text) == []
