from cryptography.fernet import Fernet

from conversations.models import Event, Message
from tests.factories import ConversationFactory, MessageFlowFactory

SECRET = "My blood test results are in"


def hipaa_conversation(workspace):
    flow = MessageFlowFactory(workspace=workspace, hipaa_compliance=True)
    return ConversationFactory(workspace=workspace, flow=flow, agent=None, hipaa=True)


def test_hipaa_message_text_is_unreadable_in_the_database_row(api_client, workspace):
    conversation = hipaa_conversation(workspace)

    response = api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "user", "content": SECRET},
        format="json",
    )

    assert response.status_code == 201
    stored = Message.objects.filter(conversation=conversation).values_list("text", flat=True).get()
    assert SECRET not in stored
    assert stored.startswith("fernet:")
    assert response.json()["message"]["content"] == SECRET


def test_hipaa_events_carry_no_text(api_client, workspace):
    conversation = hipaa_conversation(workspace)

    api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "user", "content": SECRET},
        format="json",
    )

    event = Event.objects.get(type="message.created")
    assert SECRET not in str(event.data)
    assert "text" not in event.data["message"]
    assert event.data["message"]["_id"]


def test_conversations_of_hipaa_flows_opened_through_the_api_are_encrypted(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace, hipaa_compliance=True)

    body = api_client.post("/v1/conversations", {"flowId": str(flow.pk)}, format="json").json()
    api_client.post(
        f"/v1/conversations/{body['_id']}/messages",
        {"role": "user", "content": SECRET},
        format="json",
    )

    assert SECRET not in Message.objects.values_list("text", flat=True).get()


def test_keys_rotate_old_text_stays_readable(api_client, workspace, settings):
    conversation = hipaa_conversation(workspace)
    api_client.post(
        f"/v1/conversations/{conversation.pk}/messages",
        {"role": "user", "content": SECRET},
        format="json",
    )

    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    assert Message.objects.get().content == SECRET


def test_console_backends_never_write_a_hipaa_flows_text(caplog, capsys, settings):
    from django.core import mail

    from channels import email as email_channel
    from channels import sms

    settings.SMS_BACKEND = "console"
    secret = "Your HIV test result is ready"
    with caplog.at_level("INFO"):
        sms.ConsoleBackend().send(sms.OutboundSms(to="+14155550123", body=secret, private=True))
    email = email_channel.build_email(
        message_id="m1", to="a@example.com", from_email="c@example.com", subject="Results",
        body=secret, domain="example.com", private=True,
    )  # fmt: skip
    with mail.get_connection("channels.email.ConsoleEmailBackend") as connection:
        connection.send_messages([email])

    assert secret not in caplog.text
    assert secret not in capsys.readouterr().out
    assert "withheld" in caplog.text
