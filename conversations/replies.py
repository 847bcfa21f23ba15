"""Generating an agent's reply: prompt from the conversation, the model call, the
stored reply and its events. The caller holds the conversation's reply lock."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from agents import llm
from agents.prompts import Prompt, PromptContext, Turn, build_prompt, control_block
from conversations import payloads
from conversations.events import event_record
from conversations.models import Conversation, Message, Role
from conversations.scheduling import message_route_outbound, outbound_status
from conversations.services import (
    conversation_agent,
    conversation_set_state,
    ensure_not_generating,
    message_create,
    no_agent_error,
    reply_enqueue_on_commit,
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
    *,
    conversation_id: uuid.UUID,
    started_at: datetime,
    sdk_max_retries: int | None = None,
    answers_owed: bool = False,
) -> Message | None:
    """Call with the reply lock taken at `started_at`; the lock is released here.

    On success the reply is stored and every reply owed up to `started_at` is settled.
    A PermanentLLMError is recorded as reply.failed and raised as ReplyFailed; a
    TransientLLMError is raised as it is, leaving the owed reply for a retry.

    With `answers_owed` (the reply task) the reply answers the conversation's owed
    marker, and when the model returns it is stored only if that still holds: a newer
    customer message supersedes it (the reply stays owed and one fresh reply, which sees
    every message, is enqueued), a person's takeover or an opt-out drops it. It is then
    discarded, never sent, and None is returned."""
    try:
        conversation = Conversation.objects.select_related("flow__agent", "agent", "contact").get(
            pk=conversation_id
        )
        agent = conversation_agent(conversation)
        if answers_owed and conversation.reply_due_at is None:
            # Answered between the task's look and the lock: nothing is owed any more.
            reply_lock_release(conversation_id=conversation_id, started_at=started_at)
            return None
        if agent is None:  # its agent was deleted since the reply was asked for
            raise llm.PermanentLLMError("The conversation has no agent any more.")
        seen = _seen(conversation, started_at) if answers_owed else None
        prompt = prompt_for(conversation)
        release_connection()  # the model may take seconds: don't hold a connection meanwhile
        completion = llm.get_provider().complete(
            llm.CompletionRequest(
                model=agent.model,
                system=prompt.system,
                messages=prompt.messages,
                max_tokens=agent.max_tokens,
                max_retries=sdk_max_retries,
            )
        )
    except llm.PermanentLLMError as exc:
        _record_failure(conversation_id, started_at, exc.message)
        raise ReplyFailed(exc.message) from exc
    except BaseException:
        reply_lock_release(conversation_id=conversation_id, started_at=started_at)
        raise

    try:
        with transaction.atomic():
            if seen is not None:
                reason, due_at = _outdated(conversation_id, started_at, seen)
                if reason:
                    _discard(conversation, started_at, completion, reason=reason, due_at=due_at)
                    return None
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
                status=outbound_status(conversation, Role.AGENT),
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
                    "usage": _usage(completion),
                },
            )
            if answers_owed:
                # Under the row lock, checked unchanged: this reply answers all that is owed.
                Conversation.objects.filter(pk=conversation_id).update(reply_due_at=None)
            _settle(conversation_id, started_at, error="")
    finally:
        reply_lock_release(conversation_id=conversation_id, started_at=started_at)
    return reply


@dataclass(frozen=True)
class _Seen:
    """What a reply is written from: the owed marker and the user messages that came
    after `started_at`, read after the lock was taken and before the prompt (which so
    sees at least these)."""

    due_at: datetime | None
    user_message_ids: frozenset[uuid.UUID]


def _seen(conversation: Conversation, started_at: datetime) -> _Seen:
    return _Seen(
        due_at=conversation.reply_due_at,
        user_message_ids=frozenset(_user_messages_since(conversation.pk, started_at)),
    )


def _user_messages_since(conversation_id: uuid.UUID, started_at: datetime) -> QuerySet:
    return Message.objects.filter(
        conversation_id=conversation_id, role=Role.USER, created_at__gt=started_at
    ).values_list("pk", flat=True)


def _outdated(
    conversation_id: uuid.UUID, started_at: datetime, seen: _Seen
) -> tuple[str, datetime | None]:
    """Why a reply the model just wrote must not be stored ("" if it may be), and when
    the reply is owed now. Takes the conversation's row lock: message_send and inbound
    update that row with each message (message_create, reply_owed), so a message either
    committed before this look, and counts here, or waits until the reply is stored and
    then asks for its own."""
    locked = (
        Conversation.objects.select_for_update()
        .only("reply_due_at", "ai_paused", "ai_paused_until")
        .filter(pk=conversation_id)
        .first()
    )
    if locked is None:
        return "deleted", None
    due_at = locked.reply_due_at
    if locked.ai_paused_now(timezone.now()):
        return "paused", due_at  # a person took over while the model was writing
    if due_at is None:
        return "not_owed", due_at  # e.g. the customer opted out meanwhile
    unseen = _user_messages_since(conversation_id, started_at).exclude(pk__in=seen.user_message_ids)
    if due_at != seen.due_at or unseen.exists():
        return "superseded", due_at  # the customer said more than the reply has seen
    return "", due_at


def _discard(
    conversation: Conversation,
    started_at: datetime,
    completion: llm.Completion,
    *,
    reason: str,
    due_at: datetime | None,
) -> None:
    """Call with the conversation row locked. The text is dropped, not kept as a draft:
    it answers a conversation that has moved on, and a stored copy would have to be
    hidden from the prompt, the message lists and the events alike. The event says the
    model was called (and what it cost), without the text."""
    if reason == "deleted":
        return
    logger.info("Reply in conversation %s discarded: %s", conversation.pk, reason)
    event_record(
        workspace_id=conversation.workspace_id,
        type="reply.discarded",
        conversation_id=conversation.pk,
        data={
            "conversationId": str(conversation.pk),
            "reason": reason,
            "model": completion.model,
            "usage": _usage(completion),
        },
    )
    if reason == "paused":
        Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=None)
    elif reason == "superseded" and due_at is not None:
        # Still owed. The lock goes with this commit, so the fresh reply's task (enqueued
        # on it) finds it free instead of waiting BUSY_RETRY_SECONDS.
        reply_lock_release(conversation_id=conversation.pk, started_at=started_at)
        reply_enqueue_on_commit(conversation_id=conversation.pk, due_at=due_at)


def _state_as_given(state: dict) -> dict:
    """The state in the API's spelling (systemMessage), as the client wrote it."""
    names = {"system_message": "systemMessage"}
    return {names.get(key, key): value for key, value in state.items()}


def _usage(completion: llm.Completion) -> dict:
    return {"inputTokens": completion.input_tokens, "outputTokens": completion.output_tokens}


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
                data={"conversationId": str(conversation_id), "error": message},
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
    if not content.strip() and state is None and not generate:
        raise ApplicationError(
            "Nothing to do: give content, an action or stateAfter.",
            code="validation_error",
            errors={"content": ["A message without content needs an action or stateAfter."]},
        )
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
                    conversation=conversation,
                    role=role,
                    text=content,
                    metadata=metadata,
                    status=outbound_status(conversation, role),
                )
                if role == Role.AGENT:  # written elsewhere: goes to the customer's channel
                    message_route_outbound(message=message, approved=True)
            if state is not None:
                conversation_set_state(conversation=conversation, state=state)
                if message is None and not generate:
                    # A state change alone is kept as a control note, so the transcript
                    # shows when and how the state changed.
                    message = message_create(
                        conversation=conversation,
                        role=Role.CONTROL,
                        text="",
                        metadata={"stateAfter": _state_as_given(state)},
                    )
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
        reply_generate(
            conversation_id=conversation.pk,
            started_at=started_at,
            sdk_max_retries=0,
            answers_owed=True,
        )
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
