"""The operator console and the admin with HIPAA conversations: what is sealed in the
database is shown in clear to the operators, and what they change stays sealed."""

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from conversations.models import Contact, Conversation, DeliveryStatus, Message
from conversations.operator_actions import message_retry
from conversations.services import conversation_create
from core.errors import Conflict
from tests.console.conftest import agent_message, customer_message
from tests.conversations.test_phi_at_rest import stored


def test_a_failed_hipaa_send_is_retried_once_its_copy_found_by_its_sealed_metadata(world):
    flow = world.a.flow
    flow.hipaa_compliance = True
    flow.save()
    conversation = conversation_create(
        workspace=world.a.workspace, flow=flow, contact=world.a.contact
    )
    failed = agent_message(conversation, "your results are ready", status=DeliveryStatus.FAILED)

    copy = message_retry(message=failed, by="admin:1")

    assert Message.objects.get(pk=copy.pk).metadata["retry_of"] == str(failed.pk)
    assert "admin:1" not in stored(Message, copy.pk, "metadata")  # who retried: sealed
    with pytest.raises(Conflict, match="retried already"):
        message_retry(message=failed, by="admin:1")


def test_the_console_and_the_admin_show_a_hipaa_contact_and_context_in_clear(
    alice_client, admin_client, world
):
    flow = world.a.flow
    flow.hipaa_compliance = True
    flow.save()
    contact = Contact.objects.create(
        workspace=world.a.workspace, channel="SMS", address="+14155550777", name="Ottoline Vark"
    )
    conversation = conversation_create(
        workspace=world.a.workspace,
        flow=flow,
        contact=contact,
        state={"context": {"diagnosis": "hypertension-stage-2"}},
    )
    customer_message(conversation, "is my prescription ready?")

    page = alice_client.get(reverse("admin:inbox_conversation", args=[conversation.pk]))
    record = admin_client.get(reverse("admin:conversations_contact_change", args=[contact.pk]))

    assert "Ottoline" not in stored(Contact, contact.pk, "name")
    assert "hypertension" not in stored(Conversation, conversation.pk, "context")
    assert "Ottoline Vark" in page.content.decode()
    assert "hypertension-stage-2" in page.content.decode()
    assert "is my prescription ready?" in page.content.decode()
    assert "Ottoline Vark" in record.content.decode()


def test_an_operator_editing_the_context_in_the_console_keeps_it_sealed(alice_client, world):
    flow = world.a.flow
    flow.hipaa_compliance = True
    flow.save()
    conversation = conversation_create(
        workspace=world.a.workspace, flow=flow, contact=world.a.contact
    )

    alice_client.post(
        reverse("admin:inbox_state", args=[conversation.pk]),
        {"playbook": "", "phase": "", "system_message": "", "context": '{"allergy": "penicillin"}'},
    )

    conversation.refresh_from_db()
    assert conversation.context == {"allergy": "penicillin"}
    assert "penicillin" not in stored(Conversation, conversation.pk, "context")


def test_a_hipaa_contact_edited_in_the_admin_stays_sealed(admin_client, world):
    flow = world.a.flow
    flow.hipaa_compliance = True
    flow.save()
    contact = world.a.contact
    conversation_create(workspace=world.a.workspace, flow=flow, contact=contact)
    url = reverse("admin:conversations_contact_change", args=[contact.pk])

    response = admin_client.post(
        url,
        {
            "workspace": world.a.workspace.pk,
            "channel": contact.channel,
            "address": contact.address,
            "name": "Wilhelmina Stroud",
            "metadata": '{"customerDetails": {"ward": "cardiology-4b"}}',
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    contact.refresh_from_db()
    assert contact.hipaa
    assert contact.name == "Wilhelmina Stroud"
    assert "Wilhelmina" not in stored(Contact, contact.pk, "name")
    assert "cardiology" not in stored(Contact, contact.pk, "metadata")
    history = LogEntry.objects.values_list("object_repr", "change_message").get()
    assert "Wilhelmina" not in str(history)  # the admin's history names the address
