"""The conversation page: the transcript in order with who said what, and every action
on it: each is permission-checked, scoped to the operator's workspaces, CSRF-protected
and written to the admin's history."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.operator_actions import RETRY_OF
from tests.console.conftest import PASSWORD, customer_message, logged_in


def page_url(conversation) -> str:
    return reverse("admin:inbox_conversation", args=[conversation.pk])


def message_url(message, action: str) -> str:
    return reverse("admin:inbox_message", args=[message.conversation_id, message.pk, action])


def history(obj) -> list[str]:
    content_type = ContentType.objects.get_for_model(obj)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).values_list(
            "change_message", flat=True
        )
    )


def test_the_transcript_is_in_time_order_and_marks_who_spoke(alice_client, alice, world):
    side = world.a
    alice_client.post(
        reverse("admin:inbox_reply", args=[side.conversation.pk]), {"text": "alice-here"}
    )

    page = alice_client.get(page_url(side.conversation)).content.decode()

    order = re.findall(r'data-message-id="([0-9a-f-]+)"', page)
    stored = list(
        Message.objects.filter(conversation=side.conversation)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    assert order == [str(pk) for pk in stored]
    assert 'class="msg side-customer kind-customer msg-status-received"' in page
    assert 'class="msg side-team kind-ai msg-status-failed"' in page
    assert 'class="msg side-team kind-person msg-status-scheduled"' in page
    assert '<span class="badge badge-person">Person</span> Alice' in page
    assert "Landline or unreachable carrier" in page  # why the send failed
    assert "30006" in page
    assert "waiting for approval" in page


def test_a_control_note_is_small_and_grey(alice_client, world):
    from conversations.services import message_create

    message_create(conversation=world.a.conversation, role=Role.CONTROL, text="customer is VIP")

    page = alice_client.get(page_url(world.a.conversation)).content.decode()

    assert 'class="msg side-note kind-note' in page
    assert "customer is VIP" in page


def test_approve_schedules_the_draft_and_is_in_its_history(alice_client, world):
    draft = world.a.draft

    response = alice_client.post(message_url(draft, "approve"))

    assert response.status_code == 302
    assert response["Location"] == page_url(world.a.conversation)
    draft.refresh_from_db()
    assert draft.status == DeliveryStatus.SCHEDULED
    assert draft.send_at is not None
    assert any("Approved the draft" in entry for entry in history(draft))
    assert any("Approved the draft" in entry for entry in history(world.a.conversation))


def test_approving_twice_says_why_it_cannot(alice_client, world):
    alice_client.post(message_url(world.a.draft, "approve"))

    response = alice_client.post(message_url(world.a.draft, "approve"), follow=True)

    assert "Only a draft can be sent" in response.content.decode()


def test_edit_and_send_cancels_the_draft_and_sends_a_new_message(alice_client, alice, world):
    draft = world.a.draft

    alice_client.post(message_url(draft, "edit"), {"text": "A better answer."})

    draft.refresh_from_db()
    assert draft.status == DeliveryStatus.CANCELED
    assert draft.content == "alpha-draft answer"  # never edited in place
    replacement = Message.objects.get(metadata__replaces=str(draft.pk))
    assert replacement.content == "A better answer."
    assert replacement.status == DeliveryStatus.SCHEDULED
    assert replacement.sender_id == draft.sender_id
    assert replacement.metadata["edited_by"] == f"admin:{alice.pk}"
    page = alice_client.get(page_url(world.a.conversation)).content.decode()
    assert "edited by Alice" in page


def test_discard_cancels_the_draft(alice_client, world):
    alice_client.post(message_url(world.a.draft, "discard"))

    world.a.draft.refresh_from_db()
    assert world.a.draft.status == DeliveryStatus.CANCELED
    assert "Discarded by alice" in world.a.draft.error_message


def test_retry_sends_a_copy_of_a_failed_message_once(alice_client, world):
    failed = world.a.failed

    alice_client.post(message_url(failed, "retry"))
    again = alice_client.post(message_url(failed, "retry"), follow=True)

    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.FAILED  # its error stays on record
    copy = Message.objects.get(**{f"metadata__{RETRY_OF}": str(failed.pk)})
    assert copy.content == failed.content
    assert copy.status == DeliveryStatus.SCHEDULED
    assert "retried already" in again.content.decode()
    assert any("Retried a failed send" in entry for entry in history(copy))
    page = again.content.decode()
    assert "retry of a failed send" in page
    assert page.count(">Retry</button>") == 0


def test_a_reply_is_an_agent_message_from_the_person_and_pauses_the_ai(alice_client, alice, world):
    conversation = world.a.conversation

    response = alice_client.post(
        reverse("admin:inbox_reply", args=[conversation.pk]), {"text": "Hi, Alice here."}
    )

    assert response.status_code == 302
    message = Message.objects.filter(conversation=conversation).latest("created_at")
    assert message.role == Role.AGENT
    assert message.sender_id == f"admin:{alice.pk}"
    assert message.sender_type == "agent"
    assert message.content == "Hi, Alice here."
    assert message.status == DeliveryStatus.SCHEDULED
    conversation.refresh_from_db()
    assert conversation.ai_paused
    assert any("Sent a reply" in entry for entry in history(conversation))


def test_an_empty_reply_sends_nothing(alice_client, world):
    before = Message.objects.count()

    alice_client.post(reverse("admin:inbox_reply", args=[world.a.conversation.pk]), {"text": " "})

    assert Message.objects.count() == before


def test_pause_and_resume_the_ai(alice_client, world):
    conversation = world.a.conversation
    url = reverse("admin:inbox_ai", args=[conversation.pk])

    alice_client.post(url, {"action": "pause"})
    conversation.refresh_from_db()
    assert conversation.ai_paused
    assert "Resume AI" in alice_client.get(page_url(conversation)).content.decode()

    alice_client.post(url, {"action": "resume"})
    conversation.refresh_from_db()
    assert not conversation.ai_paused
    assert [e for e in history(conversation) if "AI" in e] == ["Resumed the AI.", "Paused the AI."]


def test_opt_the_contact_out_and_back_in(alice_client, world):
    contact = world.a.contact
    url = reverse("admin:inbox_contact", args=[world.a.conversation.pk])

    alice_client.post(url, {"action": "opt_out"})
    contact.refresh_from_db()
    world.a.draft.refresh_from_db()
    assert contact.opted_out_at is not None
    assert world.a.draft.status == DeliveryStatus.CANCELED  # pending messages canceled

    alice_client.post(url, {"action": "opt_in"})
    contact.refresh_from_db()
    assert contact.opted_out_at is None
    assert len(history(contact)) == 2


def test_change_the_state(alice_client, world):
    conversation = world.a.conversation
    url = reverse("admin:inbox_state", args=[conversation.pk])

    alice_client.post(
        url,
        {
            "playbook": "Book a visit.",
            "phase": "qualifying",
            "system_message": "Be warm.",
            "context": '{"plan": "gold"}',
        },
    )

    conversation.refresh_from_db()
    assert conversation.phase == "qualifying"
    assert conversation.context == {"plan": "gold"}
    assert conversation.playbook == "Book a visit."


def test_a_state_with_a_context_that_is_not_an_object_is_refused(alice_client, world):
    url = reverse("admin:inbox_state", args=[world.a.conversation.pk])

    response = alice_client.post(url, {"phase": "x", "context": "[1, 2]"}, follow=True)

    world.a.conversation.refresh_from_db()
    assert world.a.conversation.phase == ""
    assert "JSON object" in response.content.decode()


def test_the_transcript_fragment_answers_204_while_nothing_changed(alice_client, world):
    url = reverse("admin:inbox_transcript", args=[world.a.conversation.pk])
    first = alice_client.get(url)
    version = first["X-Transcript-Version"]

    unchanged = alice_client.get(url, {"v": version})
    customer_message(world.a.conversation, "one more thing")
    changed = alice_client.get(url, {"v": version})

    assert first.status_code == 200
    assert unchanged.status_code == 204
    assert changed.status_code == 200
    assert "one more thing" in changed.content.decode()
    assert changed["X-Transcript-Version"] != version


def test_a_hipaa_transcript_shows_the_text_to_its_operator(alice_client, world):
    flow = world.a.flow
    flow.hipaa_compliance = True
    flow.save()
    from conversations.services import conversation_create

    conversation = conversation_create(
        workspace=world.a.workspace, flow=flow, contact=world.a.contact
    )
    customer_message(conversation, "private words")

    assert "private words" in alice_client.get(page_url(conversation)).content.decode()


def test_the_change_form_stays_reachable_for_superusers(admin_client, world):
    page = admin_client.get(page_url(world.a.conversation)).content.decode()
    change = reverse("admin:conversations_conversation_change", args=[world.a.conversation.pk])

    assert f'href="{change}"' in page
    assert admin_client.get(change).status_code == 200


# --- Permissions and scoping: every console URL ---------------------------------------


def console_posts(side) -> list[tuple[str, dict]]:
    c = side.conversation
    return [
        (reverse("admin:inbox_reply", args=[c.pk]), {"text": "intruder"}),
        (reverse("admin:inbox_ai", args=[c.pk]), {"action": "pause"}),
        (reverse("admin:inbox_contact", args=[c.pk]), {"action": "opt_out"}),
        (reverse("admin:inbox_state", args=[c.pk]), {"phase": "intruded"}),
        (message_url(side.draft, "approve"), {}),
        (message_url(side.draft, "discard"), {}),
        (message_url(side.draft, "edit"), {"text": "intruder"}),
        (message_url(side.failed, "retry"), {}),
    ]


def console_gets(side) -> list[str]:
    c = side.conversation
    return [page_url(c), reverse("admin:inbox_transcript", args=[c.pk])]


def snapshot(side) -> tuple:
    conversation = Conversation.objects.get(pk=side.conversation.pk)
    return (
        list(Message.objects.filter(conversation=conversation).values_list("pk", "status")),
        conversation.ai_paused,
        conversation.phase,
        Contact.objects.get(pk=side.contact.pk).opted_out_at,
    )


@pytest.mark.parametrize("index", range(8))
def test_an_operator_cannot_act_on_another_workspaces_conversation(client, bob, world, index):
    logged_in(client, bob)
    before = snapshot(world.a)
    url, data = console_posts(world.a)[index]

    response = client.post(url, data)

    assert response.status_code == 404
    assert snapshot(world.a) == before


def test_an_operator_cannot_read_another_workspaces_conversation(client, bob, world):
    logged_in(client, bob)

    for url in console_gets(world.a):
        response = client.get(url)
        assert response.status_code == 404
        assert "alpha" not in response.content.decode()


@pytest.mark.parametrize("index", range(8))
def test_a_viewer_may_read_but_not_act(client, viewer, world, index):
    logged_in(client, viewer)
    before = snapshot(world.a)
    url, data = console_posts(world.a)[index]

    assert all(client.get(page).status_code == 200 for page in console_gets(world.a))
    assert client.post(url, data).status_code == 403
    assert snapshot(world.a) == before


def test_a_viewer_sees_no_action_buttons(client, viewer, world):
    logged_in(client, viewer)

    page = client.get(page_url(world.a.conversation)).content.decode()

    assert "Approve</button>" not in page
    assert "Retry</button>" not in page
    assert 'name="text"' not in page
    assert "Pause AI" not in page
    assert "Opt out" not in page


def test_actions_refuse_get(alice_client, world):
    for url, _ in console_posts(world.a):
        assert alice_client.get(url).status_code == 405


def test_every_post_needs_the_csrf_token(alice, world):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=alice.username, password=PASSWORD)
    before = snapshot(world.a)

    for url, data in console_posts(world.a):
        assert client.post(url, data).status_code == 403

    assert snapshot(world.a) == before


def test_a_malformed_or_unknown_id_is_a_404(alice_client, world):
    assert alice_client.get(reverse("admin:inbox_conversation", args=["nope"])).status_code == 404
    url = reverse(
        "admin:inbox_message", args=[world.a.conversation.pk, world.b.draft.pk, "approve"]
    )
    assert alice_client.post(url).status_code == 404
    world.b.draft.refresh_from_db()
    assert world.b.draft.status == DeliveryStatus.DRAFT
