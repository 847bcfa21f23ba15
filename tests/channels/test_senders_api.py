import pytest

from channels.models import Sender
from tests.factories import MessageFlowFactory

URL = "/v1/api/senders"


def test_create_an_sms_sender_normalises_the_number(api_client, workspace):
    response = api_client.post(
        URL, {"channel": "sms", "address": "+1 415 555 0123", "isDefault": True}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["channel"] == "SMS"
    assert body["address"] == "+14155550123"
    assert body["isDefault"] is True
    assert body["messagingServiceSid"] == ""
    assert body["workspaceId"] == str(workspace.pk)


def test_create_an_email_sender(api_client):
    response = api_client.post(
        URL, {"channel": "Email", "address": "Care@Clinic.example"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["address"] == "care@clinic.example"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"channel": "SMS", "address": "4155550123"}, "Field 'address' is invalid: For SMS"),
        ({"channel": "Email", "address": "not-an-email"}, "Field 'address' is invalid: For Email"),
        ({"channel": "Fax", "address": "+14155550123"}, "Field 'channel' is invalid"),
        (
            {"channel": "SMS", "address": "+14155550123", "messagingServiceSid": "xx"},
            "Field 'messagingServiceSid'",
        ),
    ],
)
def test_bad_senders_are_refused(api_client, payload, message):
    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


def test_an_address_of_another_workspace_is_409(api_client, outsider):
    outsider.client.post(URL, {"channel": "SMS", "address": "+14155550123"}, format="json")

    response = api_client.post(URL, {"channel": "SMS", "address": "+14155550123"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "sender_address_taken"
    assert Sender.objects.count() == 1


def test_a_new_default_replaces_the_old_one(api_client, workspace):
    first = api_client.post(
        URL, {"channel": "SMS", "address": "+14155550123", "isDefault": True}, format="json"
    )
    api_client.post(
        URL, {"channel": "SMS", "address": "+14155550124", "isDefault": True}, format="json"
    )

    assert api_client.get(f"{URL}/{first.json()['_id']}").json()["isDefault"] is False
    assert Sender.objects.filter(workspace=workspace, is_default=True).count() == 1


def test_patch_and_delete_a_sender(api_client):
    sender = api_client.post(
        URL, {"channel": "SMS", "address": "+14155550123"}, format="json"
    ).json()

    patched = api_client.patch(f"{URL}/{sender['_id']}", {"isDefault": True}, format="json")
    deleted = api_client.delete(f"{URL}/{sender['_id']}")

    assert patched.json()["isDefault"] is True
    assert deleted.status_code == 204


def test_a_flow_can_name_its_sender(api_client, workspace):
    sender = api_client.post(
        URL, {"channel": "SMS", "address": "+14155550123"}, format="json"
    ).json()
    flow = MessageFlowFactory(workspace=workspace)

    response = api_client.patch(
        f"/v1/api/message-flows/{flow.pk}", {"sender": sender["_id"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["sender"] == sender["_id"]


def test_a_flow_cannot_name_a_sender_of_another_channel_or_workspace(
    api_client, workspace, outsider
):
    email = api_client.post(
        URL, {"channel": "Email", "address": "a@b.example"}, format="json"
    ).json()
    theirs = outsider.client.post(
        URL, {"channel": "SMS", "address": "+14155550199"}, format="json"
    ).json()
    flow = MessageFlowFactory(workspace=workspace, message_channel="SMS")

    wrong_channel = api_client.patch(
        f"/v1/api/message-flows/{flow.pk}", {"sender": email["_id"]}, format="json"
    )
    foreign = api_client.patch(
        f"/v1/api/message-flows/{flow.pk}", {"sender": theirs["_id"]}, format="json"
    )

    assert wrong_channel.status_code == 400
    assert foreign.status_code == 400
    assert "No sender with id" in foreign.json()["message"]


# --- Owned, not claimed -----------------------------------------------------------------


def test_a_number_the_twilio_account_owns_can_be_a_sender(api_client, fake_twilio):
    fake_twilio.numbers.add("+14155550123")

    response = api_client.post(URL, {"channel": "SMS", "address": "+14155550123"}, format="json")

    assert response.status_code == 201, response.json()
    listing = fake_twilio.requests[-1]
    assert listing["path"].endswith("/IncomingPhoneNumbers.json")
    assert listing["query"]["PhoneNumber"] == "+14155550123"


def test_a_number_the_account_does_not_own_is_refused(api_client, fake_twilio):
    response = api_client.post(URL, {"channel": "SMS", "address": "+14155550123"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "sender_not_owned"
    assert not Sender.objects.exists()


def test_the_shared_default_number_can_never_be_claimed(api_client, fake_twilio, settings):
    fake_twilio.numbers.add(settings.TWILIO_FROM_NUMBER)

    response = api_client.post(
        URL, {"channel": "SMS", "address": settings.TWILIO_FROM_NUMBER}, format="json"
    )

    assert response.status_code == 400
    assert "shared number" in response.json()["message"]


def test_a_messaging_service_the_account_does_not_have_is_refused(api_client, fake_twilio):
    fake_twilio.numbers.add("+14155550123")
    payload = {"channel": "SMS", "address": "+14155550123", "messagingServiceSid": "MG" + "b" * 32}

    response = api_client.post(URL, payload, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "sender_not_owned"


def test_moving_a_sender_to_a_number_not_owned_is_refused(api_client, fake_twilio):
    fake_twilio.numbers.add("+14155550123")
    sender = api_client.post(
        URL, {"channel": "SMS", "address": "+14155550123"}, format="json"
    ).json()

    response = api_client.patch(
        f"{URL}/{sender['_id']}", {"address": "+14155550999"}, format="json"
    )

    assert response.status_code == 400
    assert Sender.objects.get().address == "+14155550123"


def test_email_senders_are_on_the_deployments_domains(api_client, settings):
    settings.EMAIL_SENDER_DOMAINS = ["clinic.example"]

    ours = api_client.post(
        URL, {"channel": "Email", "address": "care@clinic.example"}, format="json"
    )
    theirs = api_client.post(
        URL, {"channel": "Email", "address": "ceo@bank.example"}, format="json"
    )

    assert ours.status_code == 201
    assert theirs.status_code == 400
    assert theirs.json()["code"] == "sender_not_owned"


def test_without_a_twilio_account_registration_is_open(api_client, settings):
    settings.SMS_BACKEND = "console"
    settings.TWILIO_ACCOUNT_SID = ""

    response = api_client.post(URL, {"channel": "SMS", "address": "+14155550177"}, format="json")

    assert response.status_code == 201
