"""What an operator does to a conversation's outbound messages beyond approving and
discarding drafts (conversations.scheduling): retrying a failed send and replacing a
draft with their edit.

Both write a new message and leave the old one as it was: message content is immutable,
and a message that failed keeps its error and its provider id, so a late status callback
for the failed attempt (its URL names that message) can never touch the new send. Their
refusals are the generic `conflict` (the console shows the message; no API calls them).
They live here rather than at the end of scheduling.py because they store messages
through services.message_create, and services already imports scheduling.
"""

from django.db import transaction
from django.utils import timezone

from conversations.models import Conversation, DeliveryStatus, Message, Role
from conversations.replies import conversation_post_message
from conversations.scheduling import (
    draft_lock,
    message_cancel,
    message_route_outbound,
    message_schedule,
    outbound_status,
    send_time,
)
from conversations.services import conversation_create, message_create
from core.errors import ApplicationError, Conflict
from flows.models import MessageFlow

FAILED = (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)
# metadata keys the copies carry, so the transcript and the inbox can tell what they are
RETRY_OF = "retry_of"
REPLACES = "replaces"
EDITED_BY = "edited_by"


def message_retry(*, message: Message, by: str) -> Message:
    """A failed (or undelivered) send tried again: a copy of the message, marked
    `retry_of`, scheduled inside its flow's working hours (no reply delay: the customer
    has waited already). The failed message stays failed, with its error; each failure is
    retried at most once (a failed retry is itself retried), so the inbox counts the
    failures still needing a person as failures minus retries."""
    with transaction.atomic():
        failed = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__flow", "conversation__contact")
            .get(pk=message.pk)
        )
        if failed.status not in FAILED:
            raise Conflict(f"Only a failed send can be retried; this message is {failed.status}.")
        if Message.objects.filter(
            conversation_id=failed.conversation_id, **{f"metadata__{RETRY_OF}": str(failed.pk)}
        ).exists():
            raise Conflict("This failed send was retried already.")
        conversation = failed.conversation
        metadata = failed.metadata or {}
        compliance = metadata.get("automatic") == "compliance"
        if conversation.contact and conversation.contact.opted_out_at and not compliance:
            raise Conflict("The contact opted out: opt them back in before sending again.")
        if conversation.flow and not conversation.flow.is_active:
            raise Conflict("The conversation's flow is inactive: activate it before sending again.")
        copy = message_create(
            conversation=conversation,
            role=failed.role,
            text=failed.content,
            sender_id=failed.sender_id,
            sender_type=failed.sender_type,
            metadata={**metadata, RETRY_OF: str(failed.pk), "retried_by": by},
            reply_to=failed.reply_to,
            llm_model=failed.llm_model,
            status=outbound_status(conversation, failed.role),
        )
        return message_route_outbound(message=copy, approved=True)


def draft_replace(*, message: Message, text: str, by: str) -> Message:
    """ "Edit and send": the draft is canceled (never edited in place) and a new message
    with the operator's text takes its place, from the same sender (the AI's words, edited:
    the AI keeps answering, unlike when a person writes their own reply), scheduled like an
    approved draft (the flow's delay, inside its hours). Call with the draft; a message that
    is no longer a draft (approved or discarded meanwhile) is refused."""
    if not text.strip():
        raise ApplicationError("The edited message is empty.", code="validation_error")
    with transaction.atomic():
        draft = draft_lock(message=message, doing="edited")
        message_cancel(message=draft, reason=f"Replaced by an edit ({by}).")
        conversation = draft.conversation
        replacement = message_create(
            conversation=conversation,
            role=draft.role,
            text=text,
            sender_id=draft.sender_id,
            sender_type=draft.sender_type,
            metadata={**(draft.metadata or {}), REPLACES: str(draft.pk), EDITED_BY: by},
            reply_to=draft.reply_to,
            status=DeliveryStatus.DRAFT,
        )
        # (A draft exists only where a flow sends to a contact: message_route_outbound.)
        now = timezone.now()
        send_at = send_time(conversation.flow, now) if conversation.flow else now
        return message_schedule(message=replacement, send_at=send_at)


# --- "Try it": a flow's agent in a sandbox conversation ---------------------------------


def sandbox_start(*, flow: MessageFlow) -> Conversation:
    """A conversation for an operator to try the flow's agent in: it has no contact, so
    nothing in it is ever sent to a channel, and it is marked so the inbox and the
    dashboard leave it out."""
    with transaction.atomic():
        conversation = conversation_create(workspace=flow.workspace, flow=flow)
        Conversation.objects.filter(pk=conversation.pk).update(is_sandbox=True)
        conversation.is_sandbox = True
    return conversation


def sandbox_say(*, conversation: Conversation, text: str) -> Message | None:
    """The operator's message, as the customer, and the agent's reply written by the
    real model (the call blocks meanwhile). Only for sandbox conversations."""
    if not conversation.is_sandbox:
        raise ApplicationError("Only a sandbox conversation can be tried.", code="validation_error")
    _, reply = conversation_post_message(
        conversation=conversation, role=Role.USER, content=text, generate=True
    )
    return reply
