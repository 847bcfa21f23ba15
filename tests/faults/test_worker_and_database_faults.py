"""Workers die and database connections drop: no send is lost and none goes twice."""

import time

import pytest
from django.db import connection

from conversations import delivery
from conversations.models import Contact, Conversation, DeliveryStatus, Message
from conversations.scheduling import message_schedule
from conversations.services import message_create
from tests.factories import MessageFlowFactory, WorkspaceFactory
from tests.faults.conftest import wait_until

pytestmark = [pytest.mark.fault, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def due_messages(count: int) -> list[Message]:
    workspace = WorkspaceFactory()
    flow = MessageFlowFactory(workspace=workspace, is_active=True, autopilot=True)
    messages = []
    for index in range(count):
        contact = Contact.objects.create(
            workspace=workspace, channel="SMS", address=f"+1415555{index:04d}"
        )
        conversation = Conversation.objects.create(
            workspace=workspace, flow=flow, contact=contact, channel="SMS"
        )
        message = message_create(
            conversation=conversation, role="agent", text=f"Hello {index}", status="draft"
        )
        messages.append(message_schedule(message=message, send_at=message.created_at))
    return messages


def sent_once_each(fake_twilio, messages: list[Message]) -> None:
    bodies = sorted(m["body"] for m in fake_twilio.messages)
    assert bodies == sorted(m.content for m in messages), "lost or duplicated sends"


def test_a_worker_killed_mid_send_loses_and_duplicates_nothing(stack, fake_twilio, settings):
    settings.DELIVERY_SENDING_TIMEOUT = 2
    stack.env["DELIVERY_SENDING_TIMEOUT"] = "2"
    fake_twilio.default_delay = 1.5  # Twilio takes each message, then answers slowly
    stack.start_redis()
    messages = due_messages(30)
    stack.start_worker()
    stack.start_beat()

    assert wait_until(lambda: len(fake_twilio.messages) >= 5, 30), "nothing was sent"
    stack.kill("worker")  # SIGKILL: in-flight sends never hear Twilio's answer
    in_flight = Message.objects.filter(status=DeliveryStatus.SENDING).count()
    fake_twilio.default_delay = 0.0
    stack.start_worker()

    def settled() -> bool:
        delivery.recover_stale_sending()  # what beat runs every minute, sooner
        return not Message.objects.exclude(status=DeliveryStatus.QUEUED).exists()

    assert wait_until(settled, 90), list(Message.objects.values_list("status", flat=True))
    time.sleep(2)
    sent_once_each(fake_twilio, messages)
    print(f"killed with {in_flight} sends in flight; 30 sent once each")


def test_dropped_database_connections_lose_and_duplicate_nothing(stack, fake_twilio):
    stack.start_redis()
    stack.start_worker()
    stack.start_beat()
    messages = due_messages(20)
    assert wait_until(lambda: len(fake_twilio.messages) >= 3, 30), "nothing was sent"
    with connection.cursor() as cursor:  # every other session of the test database
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        dropped = cursor.fetchone()[0]

    assert wait_until(lambda: len(fake_twilio.messages) >= 20, 60), "a send was lost"
    time.sleep(2)
    sent_once_each(fake_twilio, messages)
    print(f"dropped {dropped} connections mid-run; 20 sent once each")
