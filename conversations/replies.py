"""Generating an agent's reply: prompt from the conversation, the model call, the
stored reply and its events. The caller holds the conversation's reply lock."""

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents import llm
from agents.prompts import Prompt, PromptContext, Turn, build_prompt, control_block
from conversations import payloads
from conversations.events import event_record
from conversations.models import Conversation, Message, Role
from conversations.scheduling import message_route_outbound
from conversations.services import (
    conversation_agent,
    conversation_set_state,
    ensure_not_generating,
    message_create,
    no_agent_error,
    reply_in_progress_error,
    reply_lock_acquire,
    reply_lock_release,
)
from core.db import release_connection
from core.errors import ApplicationError
from core.retry import backoff

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 200  # newest messages read for a prompt; the token budget trims further
TOKEN_BUDGET = 12_000
START = "Start the conversation with the customer."


class ReplyFailed(ApplicationError):
    """The provider refused the request for good; recorded as reply.failed."""

    def __init__(self, message: str) -> None:
        super().__init__(
            f"Reply generation failed: {message}", code="reply_failed", status_code=500
        )


def prompt_for(conversation: Conversation) -> Prompt:
    agent = conversation_agent(conversation)
    flow = conversation.flow
    contact = conversation.contact
    context = dict(conversation.context or {})
    dynamic = context.pop("dynamic", {}) if isinstance(context.get("dynamic"), dict) else {}
    customer = {}
    if contact is not None:
        customer = {"name": contact.name, **(contact.metadata or {}).get("customerDetails", {})}
    ctx = PromptContext(
        agent_instructions=agent.instructions if agent else "",
        flow_prompt=flow.prompt if flow else "",
        system_message=conversation.system_message,
        playbook=conversation.playbook,
        phase=conversation.phase,
        context=context,
        customer=customer,
        dynamic=dynamic,
    )
    newest = list(conversation.messages.order_by("-created_at", "-id")[:HISTORY_LIMIT])
    turns = [Turn(role=m.role, text=m.content) for m in reversed(newest)]
    prompt = build_prompt(ctx, turns, token_budget=TOKEN_BUDGET)
    if not prompt.messages:
        prompt = Prompt(
            system=prompt.system, messages=[{"role": "user", "content": control_block(START)}]
        )
    return prompt


def reply_generate(
    *, conversation_id: uuid.UUID, started_at: datetime, sdk_max_retries: int | None = None
) -> Message:
    """Call with the reply lock taken at `started_at`; the lock is released here.

    On success the reply is stored and every reply owed up to `started_at` is settled.
    A PermanentLLMError is recorded as reply.failed and raised as ReplyFailed; a
    TransientLLMError is raised as it is, leaving the owed reply for a retry."""
    try:
        conversation = Conversation.objects.select_related("flow__agent", "agent", "contact").get(
            pk=conversation_id
        )
        agent = conversation_agent(conversation)
        if agent is None:  # its agent was deleted since the reply was asked for
            raise llm.PermanentLLMError("The conversation has no agent any more.")
        prompt = prompt_for(conversation)
        release_connection()  # the model may take seconds: don't hold a connection meanwhile
        completion = llm.get_provider().complete(
            model=agent.model,
            system=prompt.system,
            messages=prompt.messages,
            max_tokens=agent.max_tokens,
            max_retries=sdk_max_retries,
        )
    except llm.PermanentLLMError as exc:
        _record_failure(conversation_id, started_at, exc.message)
        raise ReplyFailed(exc.message) from exc
    except BaseException:
        reply_lock_release(conversation_id=conversation_id, started_at=started_at)
        raise

    try:
        with transaction.atomic():
            reply = message_create(
                conversation=conversation,
                role=Role.AGENT,
                text=completion.text,
                sender_id=str(agent.pk),
                sender_type="agent",
                metadata={"offline": True} if completion.offline else {},
                llm_model=completion.model,
                input_tokens=completion.input_tokens,
                output_tokens=completion.output_tokens,
            )
            if conversation.flow is not None:
                message_route_outbound(message=reply, approved=conversation.flow.autopilot)
            event_record(
                workspace_id=conversation.workspace_id,
                type="reply.generated",
                conversation_id=conversation.pk,
                data={
                    **payloads.message_event(reply, conversation),
                    "model": completion.model,
                    "usage": {
                        "input_tokens": completion.input_tokens,
                        "output_tokens": completion.output_tokens,
                    },
                },
            )
            _settle(conversation_id, started_at, error="")
    finally:
        reply_lock_release(conversation_id=conversation_id, started_at=started_at)
    return reply


def _settle(conversation_id: uuid.UUID, started_at: datetime, *, error: str) -> None:
    # A reply asked for after generation started is still owed: keep its marker.
    Conversation.objects.filter(pk=conversation_id, reply_due_at__lte=started_at).update(
        reply_due_at=None
    )
    Conversation.objects.filter(pk=conversation_id).update(
        last_reply_error=error, updated_at=timezone.now()
    )


def _record_failure(conversation_id: uuid.UUID, started_at: datetime, message: str) -> None:
    try:
        with transaction.atomic():
            conversation = Conversation.objects.filter(pk=conversation_id).first()
            if conversation is None:
                return
            logger.warning("Reply generation failed in conversation %s", conversation_id)
            event_record(
                workspace_id=conversation.workspace_id,
                type="reply.failed",
                conversation_id=conversation_id,
                data={"conversation_id": str(conversation_id), "error": message},
            )
            _settle(conversation_id, started_at, error=message)
    finally:
        reply_lock_release(conversation_id=conversation_id, started_at=started_at)


def conversation_post_message(
    *,
    conversation: Conversation,
    role: str,
    content: str,
    metadata: dict | None = None,
    state: dict | None = None,
    generate: bool = False,
) -> tuple[Message | None, Message | None]:
    """Seed 002: store a message and/or new state, then, with `generate`, the agent's
    reply. The reply lock is taken before anything is stored, so of two concurrent
    generate-reply calls one stores and generates and the other changes nothing (409)."""
    started_at = None
    if generate:
        if conversation_agent(conversation) is None:
            raise no_agent_error()
        started_at = reply_lock_acquire(conversation_id=conversation.pk)
        if started_at is None:
            raise reply_in_progress_error()
    else:
        ensure_not_generating(conversation)
    try:
        with transaction.atomic():
            message = None
            if content.strip():
                message = message_create(
                    conversation=conversation, role=role, text=content, metadata=metadata
                )
                if role == Role.AGENT:  # written elsewhere: goes to the customer's channel
                    message_route_outbound(message=message, approved=True)
            if state is not None:
                conversation_set_state(conversation=conversation, state=state)
    except BaseException:
        if started_at is not None:
            reply_lock_release(conversation_id=conversation.pk, started_at=started_at)
        raise
    reply = None
    if started_at is not None:
        reply = reply_generate(conversation_id=conversation.pk, started_at=started_at)
    return message, reply


# --- The reply task's decisions --------------------------------------------------------

# Another process holding the reply lock settles what was owed before it began; look
# again after this long for what came after.
BUSY_RETRY_SECONDS = 5.0


def reply_run(*, conversation_id: uuid.UUID | str, attempt: int) -> float | None:
    """The owed reply of a conversation, if it is due: generated, stored and routed.
    `attempt` counts earlier tries of this task. Returns None when there is nothing more
    to do (answered, not owed, not due yet, failed for good), or the seconds after which
    to try again (a transient model error, or another process generating right now)."""
    conversation = (
        Conversation.objects.filter(pk=conversation_id)
        .only("reply_due_at", "ai_paused", "ai_paused_until")
        .first()
    )
    if conversation is None or conversation.reply_due_at is None:
        return None  # deleted, or already answered
    now = timezone.now()
    if conversation.ai_paused_now(now):
        Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=None)
        return None  # a person has taken over
    if conversation.reply_due_at > now + timedelta(seconds=1):
        return None  # not due yet (the window moved); a later task or the sweep runs it
    started_at = reply_lock_acquire(conversation_id=conversation.pk)
    if started_at is None:
        return BUSY_RETRY_SECONDS
    try:
        reply_generate(conversation_id=conversation.pk, started_at=started_at, sdk_max_retries=0)
    except ReplyFailed:
        return None  # recorded as reply.failed
    except llm.TransientLLMError as exc:
        if attempt >= settings.LLM_TASK_MAX_RETRIES:
            _give_up(conversation.pk, exc.message)
            return None
        return backoff(attempt + 1, first=2.0, cap=300.0, at_least=exc.retry_after)
    except Exception as exc:
        # Anything else (a database error, a bug) fails this owed reply once, with an
        # event, instead of being re-run by the sweep every 10 s at a model call each.
        logger.exception("Reply generation crashed in conversation %s", conversation.pk)
        _give_up(conversation.pk, f"Internal error: {type(exc).__name__}")
    return None


def _give_up(conversation_id: uuid.UUID, message: str) -> None:
    """The owed reply is failed, with an event (unless someone holds the lock now)."""
    started_at = reply_lock_acquire(conversation_id=conversation_id)
    if started_at is not None:
        _record_failure(conversation_id, started_at, message)


def replies_overdue(*, limit: int = 500) -> list[str]:
    """Owed replies whose task never ran (broker down, task lost): due for longer than
    REPLY_SWEEP_GRACE, not being generated, not paused."""
    now = timezone.now()
    grace = now - timedelta(seconds=settings.REPLY_SWEEP_GRACE)
    stale = now - timedelta(seconds=settings.REPLY_LOCK_TIMEOUT)
    due = Conversation.objects.filter(
        Q(reply_started_at__isnull=True) | Q(reply_started_at__lte=stale),
        Q(ai_paused=False) | Q(ai_paused_until__lte=now),
        reply_due_at__lte=grace,
    ).values_list("pk", flat=True)[:limit]
    return [str(pk) for pk in due]
