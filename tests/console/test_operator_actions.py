"""The services behind Retry and Edit and send: new messages, the old ones untouched."""

import pytest
from django.utils import timezone

from conversations.models import Contact, DeliveryStatus, Message
from conversations.operator_actions import draft_replace, message_retry
from conversations.services import conversation_create
from core.errors import ApplicationError, Conflict
from tests.console.conftest import agent_message


def test_a_retry_is_a_scheduled_copy_that_leaves_the_failure_on_record(world):
    failed = world.a.failed

    copy = message_retry(message=failed, by="admin:1")

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED
    assert failed.error_code == "30006"
    assert copy.pk != failed.pk
    assert copy.status == DeliveryStatus.SCHEDULED
    assert copy.content == failed.content
    assert copy.metadata["retry_of"] == str(failed.pk)
    assert (copy.role, copy.sender_id) == (failed.role, failed.sender_id)


@pytest.mark.parametrize("status", ["draft", "scheduled", "sent", "delivered", "canceled"])
def test_only_a_failed_send_is_retried(world, status):
    Message.objects.filter(pk=world.a.failed.pk).update(status=status)

    with pytest.raises(Conflict, match="Only a failed send"):
        message_retry(message=world.a.failed, by="admin:1")


def test_an_undelivered_send_is_retried_too(world):
    Message.objects.filter(pk=world.a.failed.pk).update(status=DeliveryStatus.UNDELIVERED)

    assert message_retry(message=world.a.failed, by="admin:1").status == DeliveryStatus.SCHEDULED


def test_no_retry_to_a_contact_who_opted_out_or_through_an_inactive_flow(world):
    Contact.objects.filter(pk=world.a.contact.pk).update(opted_out_at=timezone.now())
    with pytest.raises(Conflict, match="opted out"):
        message_retry(message=world.a.failed, by="admin:1")

    Contact.objects.filter(pk=world.a.contact.pk).update(opted_out_at=None)
    type(world.a.flow).objects.filter(pk=world.a.flow.pk).update(is_active=False)
    with pytest.raises(Conflict, match="inactive"):
        message_retry(message=world.a.failed, by="admin:1")


def test_a_hipaa_message_is_copied_encrypted(world):
    flow = world.a.flow
    flow.hipaa_compliance = True
    flow.save()
    conversation = conversation_create(
        workspace=world.a.workspace, flow=flow, contact=world.a.contact
    )
    failed = agent_message(conversation, "your results are ready", status=DeliveryStatus.FAILED)

    copy = message_retry(message=failed, by="admin:1")

    assert copy.content == "your results are ready"
    assert "results" not in Message.objects.get(pk=copy.pk).text


def test_an_edit_replaces_the_draft_and_is_scheduled_like_an_approval(world):
    draft = world.a.draft

    replacement = draft_replace(message=draft, text="Edited words.", by="admin:7")

    draft.refresh_from_db()
    assert draft.status == DeliveryStatus.CANCELED
    assert draft.content == "alpha-draft answer"
    assert replacement.status == DeliveryStatus.SCHEDULED
    assert replacement.metadata == {"replaces": str(draft.pk), "edited_by": "admin:7"}
    world.a.conversation.refresh_from_db()
    assert not world.a.conversation.ai_paused  # an edit is a review, not a takeover


def test_only_a_draft_is_edited_and_never_into_nothing(world):
    with pytest.raises(ApplicationError, match="empty"):
        draft_replace(message=world.a.draft, text="  ", by="admin:7")
    with pytest.raises(Conflict, match="Only a draft"):
        draft_replace(message=world.a.failed, text="x", by="admin:7")
    world.a.draft.refresh_from_db()
    assert world.a.draft.status == DeliveryStatus.DRAFT
