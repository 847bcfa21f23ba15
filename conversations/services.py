"""Conversations and messages: the writes. Each function commits what it changes and
the events that report it in one transaction; work for the workers is enqueued only
after that commit."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from agents.models import Agent
from conversations import payloads, selectors
from conversations.events import event_publish, event_record, event_statement
from conversations.models import Contact, Conversation, DeliveryStatus, Message, Role
from conversations.scheduling import message_route_outbound, outbound_status
from core import jobs
from core.crypto import encrypt_text
from core.db import (
    Statement,
    insert_statement,
    write_if,
    write_together,
    writes_are_one_statement,
)
from core.errors import ApplicationError, Conflict
from core.lookups import parse_id
from core.models import update_fields
from core.tenancy import ensure_same_workspace
from flows.models import MessageFlow
from flows.selectors import flow_for_workspace
from flows.working_hours import is_open, next_opening
from workspaces.models import Workspace

STATE_FIELDS = ("playbook", "phase", "system_message", "context")


def conversation_agent(conversation: Conversation) -> Agent | None:
    """Who speaks: the conversation's own agent, else its flow's."""
    if conversation.agent_id:
        return conversation.agent
    if conversation.flow_id:
        return conversation.flow.agent
    return None


@transaction.atomic(savepoint=False)
def conversation_create(
    *,
    workspace: Workspace,
    flow: MessageFlow | None = None,
    agent: Agent | None = None,
    contact: Contact | None = None,
    state: dict | None = None,
) -> Conversation:
    conversation = Conversation(
        workspace=workspace,
        flow=flow,
        agent=agent,
        contact=contact,
        channel=flow.message_channel if flow else "",
        hipaa=bool(flow and flow.hipaa_compliance),
        **{k: v for k, v in (state or {}).items() if k in STATE_FIELDS},
    )
    ensure_same_workspace(conversation)
    conversation.save(force_insert=True)
    if conversation.hipaa and contact is not None:
        contact_mark_hipaa(contact=contact)
    event_record(
        workspace_id=workspace.pk,
        type="conversation.created",
        conversation_id=conversation.pk,
        data=payloads.conversation_event(conversation),
    )
    return conversation


def contact_upsert(*, workspace_id: uuid.UUID, channel: str, address: str) -> Contact:
    """The contact for a normalised address, created if new (concurrent creators get
    the same row). Call inside a transaction: the row stays locked until it ends."""
    lookup = {"workspace_id": workspace_id, "channel": channel, "address": address}
    try:
        with transaction.atomic():
            return Contact.objects.select_for_update().get_or_create(**lookup)[0]
    except IntegrityError:  # created concurrently: take theirs
        return Contact.objects.select_for_update().get(**lookup)


def contact_mark_hipaa(*, contact: Contact) -> Contact:
    """A HIPAA flow reached the contact: its name and metadata are sealed at rest from
    now on (what it held already is sealed by this save)."""
    if not contact.hipaa:
        contact.hipaa = True
        contact.save(update_fields=["hipaa", "name", "metadata", "updated_at"])
    return contact


def conversation_open_for(
    *, workspace: Workspace, flow: MessageFlow | None, contact: Contact
) -> Conversation:
    """The contact's open conversation in the flow (the newest), else a new one."""
    found = (
        Conversation.objects.select_for_update(of=("self",))
        .filter(contact=contact, flow=flow, closed_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    return found or conversation_create(workspace=workspace, flow=flow, contact=contact)


def conversation_set_state(*, conversation: Conversation, state: dict) -> Conversation:
    """Sets the given state fields and leaves the others as they are."""
    changed = update_fields(conversation, {k: state[k] for k in STATE_FIELDS if k in state})
    if changed:
        conversation.save(update_fields=[*changed, "updated_at"])
    return conversation


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Removes the conversation and all its messages."""
    conversation_id, workspace_id = conversation.pk, conversation.workspace_id
    conversation.delete()
    event_record(
        workspace_id=workspace_id,
        type="conversation.deleted",
        conversation_id=conversation_id,
        data={"conversationId": str(conversation_id)},
    )


def message_create(
    *,
    conversation: Conversation,
    role: str,
    text: str,
    sender_id: str = "",
    sender_type: str = "",
    metadata: dict | None = None,
    reply_to: Message | None = None,
    status: str = DeliveryStatus.NONE,
    llm_model: str = "",
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    provider_message_id: str = "",
) -> Message:
    """Stores one immutable message. The text of HIPAA conversations is encrypted.

    Touching the conversation takes its row lock until the caller's transaction ends
    (replies.reply_generate relies on it). No savepoint of its own (nor in
    conversation_create): an error rolls back the caller's whole transaction, and a
    caller that wants to recover from one (inbound's repeated provider id) opens its
    own savepoint around the call."""
    if reply_to is not None and reply_to.conversation_id != conversation.pk:
        raise ApplicationError(
            "Field 'reply_to_message_id' must name a message of the same conversation.",
            code="validation_error",
        )
    message = _new_message(
        conversation,
        role=role,
        text=text,
        sender_id=sender_id,
        sender_type=sender_type,
        metadata=metadata,
        reply_to=reply_to,
        status=status,
        llm_model=llm_model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        provider_message_id=provider_message_id,
    )
    # The message, its event and the conversation's touch in one round trip (one
    # statement on PostgreSQL), with SQL built once: as Message.objects.create and the
    # rest, without compiling each. The touch takes the conversation's row lock, which
    # the caller's transaction holds until it ends (writers to one conversation queue
    # on it; replies rely on it).
    inserted = insert_statement(message)  # sets created_at, which the event reports
    event, recorded = event_statement(
        workspace_id=conversation.workspace_id,
        type="message.created",
        conversation_id=conversation.pk,
        data=payloads.message_event(message, conversation),
    )
    # One statement on PostgreSQL, atomic by itself: a caller with nothing else to write
    # needs no transaction (and sends no BEGIN and COMMIT); elsewhere three, in one.
    alone = writes_are_one_statement()
    with nullcontext() if alone else transaction.atomic(savepoint=False):
        write_together([inserted, recorded, _touch_statement(conversation.pk)])
    event_publish(event)
    return message


def message_append(
    *,
    workspace: Workspace,
    conversation_id: uuid.UUID,
    role: str,
    text: str,
    sender_id: str,
    sender_type: str,
    metadata: dict | None,
) -> tuple[Conversation, Message] | None:
    """message_create for a conversation known by its id alone, on the API's hot path:
    the conversation is looked up by the write itself, which touches it and stores the
    message and its event only if the workspace has it (one statement, one round trip;
    the look-up first would be a second). None when nothing was written: the
    conversation is unknown, another workspace's, or HIPAA's (whose text is sealed before
    it is written, so it needs the row first); message_create then takes over, which
    tells them apart. PostgreSQL only (core.db.write_if); None elsewhere.

    For a message that is not an agent's (an agent's may be a draft, by the flow) and
    answers none; the conversation returned has its id and workspace, and loads its
    other fields if they are asked for."""
    if not writes_are_one_statement() or role == Role.AGENT:
        return None
    conversation = Conversation.from_db(
        DEFAULT_DB_ALIAS, ["id", "workspace_id", "hipaa"], [conversation_id, workspace.pk, False]
    )
    message = _new_message(
        conversation,
        role=role,
        text=text,
        sender_id=sender_id,
        sender_type=sender_type,
        metadata=metadata,
        status=DeliveryStatus.NONE,
    )
    inserted = insert_statement(message)
    event, recorded = event_statement(
        workspace_id=workspace.pk,
        type="message.created",
        conversation_id=conversation_id,
        data=payloads.message_event(message, conversation),
    )
    guard = _touch_statement(conversation_id, workspace_id=workspace.pk)
    if not write_if(guard, [inserted, recorded]):
        return None
    event_publish(event)
    return conversation, message


def _new_message(
    conversation: Conversation,
    *,
    role: str,
    text: str,
    sender_id: str,
    sender_type: str,
    metadata: dict | None,
    status: str,
    reply_to: Message | None = None,
    llm_model: str = "",
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    provider_message_id: str = "",
) -> Message:
    return Message(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        role=role,
        sender_id=sender_id,
        sender_type=sender_type or _default_sender_type(role),
        text=encrypt_text(text) if conversation.hipaa else text,
        metadata=metadata or {},
        reply_to=reply_to,
        status=status,
        llm_model=llm_model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        provider_message_id=provider_message_id,
    )


_TOUCH_SQL = (
    f"UPDATE {Conversation._meta.db_table} "  # noqa: S608 - the model's own table name
    "SET updated_at = %s, message_count = message_count + 1 WHERE id = %s"
)
# message_append's guard: the touch of a conversation the workspace has and that is
# not HIPAA's, which yields its row when it was there.
_TOUCH_OWN_SQL = f"{_TOUCH_SQL} AND workspace_id = %s AND NOT hipaa RETURNING id"


def _touch_statement(
    conversation_id: uuid.UUID, *, workspace_id: uuid.UUID | None = None
) -> Statement:
    """The conversation's updated_at and message count, one UPDATE written once (the
    ORM's compilation of it cost more than the statement, once per message); the count
    is kept here so that no answer counts a conversation's messages. With
    `workspace_id`, message_append's guard."""
    uuid_value = Conversation._meta.pk.get_db_prep_value
    params = [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        uuid_value(conversation_id, connection),
    ]
    if workspace_id is None:
        return Statement(_TOUCH_SQL, params)
    return Statement(_TOUCH_OWN_SQL, [*params, uuid_value(workspace_id, connection)])


def _default_sender_type(role: str) -> str:
    return {Role.USER: "user", Role.AGENT: "agent", Role.CONTROL: "control"}.get(role, "system")


# --- Reply generation: the pending-reply marker and the lock -------------------------


def reply_lock_is_held(conversation: Conversation) -> bool:
    started = conversation.reply_started_at
    return started is not None and started > _stale_before()


def _stale_before() -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.REPLY_LOCK_TIMEOUT)


def reply_lock_acquire(*, conversation_id: uuid.UUID) -> timezone.datetime | None:
    """Takes the conversation's reply lock with one conditional UPDATE, so it holds
    across processes; a lock older than REPLY_LOCK_TIMEOUT was left by a dead process
    and is taken over. Returns the lock's start time, or None if someone holds it."""
    now = timezone.now()
    taken = Conversation.objects.filter(
        Q(reply_started_at__isnull=True) | Q(reply_started_at__lte=_stale_before()),
        pk=conversation_id,
    ).update(reply_started_at=now)
    return now if taken else None


def reply_lock_release(*, conversation_id: uuid.UUID, started_at: timezone.datetime) -> None:
    Conversation.objects.filter(pk=conversation_id, reply_started_at=started_at).update(
        reply_started_at=None
    )


def reply_request(*, conversation: Conversation, due_at: timezone.datetime | None = None) -> None:
    """Marks a reply as owed, in the caller's transaction, and enqueues its generation
    once that commits. If the broker is down the marker stays, and the sweep runs it.
    Updating the row also takes its lock: a reply being stored meanwhile waits for this
    transaction and then sees the new marker (see replies.reply_generate)."""
    due_at = due_at or timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(reply_due_at=due_at)
    conversation.reply_due_at = due_at
    reply_enqueue_on_commit(conversation_id=conversation.pk, due_at=due_at)


def reply_enqueue_on_commit(*, conversation_id: uuid.UUID, due_at: datetime) -> None:
    """Generation of the owed reply, enqueued once the caller's transaction commits."""
    task_args = [str(conversation_id)]
    transaction.on_commit(
        lambda: jobs.enqueue("conversations.generate_reply", task_args, at=due_at)
    )


def reply_owed(*, conversation: Conversation, now: datetime) -> datetime | None:
    """A customer spoke (seed 001, SMS or email alike): marks the agent's reply owed, in
    the caller's transaction, and returns when it is due; None when no reply is owed
    (the AI is paused, or no agent speaks in this conversation).

    One reply per burst: every message moves the due time, and a reply being written
    when another message arrives is discarded when the model returns, so the one reply
    that is stored has seen them all. With a flow, the reply waits for its quiet window
    (`reply_delay_seconds`) inside its working hours; without one it is due at once."""
    if conversation.ai_paused_now(now) or conversation_agent(conversation) is None:
        return None
    due_at = now
    flow = conversation.flow
    if flow is not None:
        hours = flow.working_hours()
        delay = timedelta(seconds=flow.reply_delay_seconds)
        if is_open(now, hours):
            due_at = next_opening(now + delay, hours)
        else:
            # The window starts at the opening: what came overnight gets one answer.
            due_at = next_opening(now, hours) + delay
    reply_request(conversation=conversation, due_at=due_at)
    return due_at


@transaction.atomic
def conversation_pause(*, conversation: Conversation, by: str = "") -> Conversation:
    """A person takes over: the AI stays silent until resumed, or until the flow's
    human_takeover_minutes run out."""
    minutes = conversation.flow.human_takeover_minutes if conversation.flow else None
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    Conversation.objects.filter(pk=conversation.pk).update(
        ai_paused=True, ai_paused_until=until, reply_due_at=None, updated_at=timezone.now()
    )
    conversation.refresh_from_db()
    event_record(
        workspace_id=conversation.workspace_id,
        type="conversation.paused",
        conversation_id=conversation.pk,
        data={
            "conversationId": str(conversation.pk),
            "by": by,
            "until": payloads.iso(until),
        },
    )
    return conversation


@transaction.atomic
def conversation_resume(*, conversation: Conversation) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(
        ai_paused=False, ai_paused_until=None, updated_at=timezone.now()
    )
    conversation.refresh_from_db()
    event_record(
        workspace_id=conversation.workspace_id,
        type="conversation.resumed",
        conversation_id=conversation.pk,
        data={"conversationId": str(conversation.pk)},
    )
    return conversation


def reply_in_progress_error() -> Conflict:
    return Conflict(
        "A reply is being generated in this conversation; retry when it is done.",
        code="reply_in_progress",
    )


def no_agent_error() -> ApplicationError:
    return ApplicationError(
        "This conversation has no agent: create it with a flowId or agentId.", code="no_agent"
    )


def ensure_not_generating(conversation: Conversation) -> None:
    if reply_lock_is_held(conversation):
        raise reply_in_progress_error()


@contextmanager
def _store_failures() -> Iterator[None]:
    """A database error while storing a message is seed 001's 500 `store_failed`."""
    try:
        yield
    except DatabaseError as exc:
        raise ApplicationError(
            "Failed to enqueue message. Please retry.", code="store_failed", status_code=500
        ) from exc


def message_send(
    *,
    workspace: Workspace,
    conversation_id: str | None,
    flow_id: uuid.UUID | None,
    sender_id: str,
    sender_type: str,
    text: str,
    metadata: dict | None,
    reply_to_message_id: str | None,
    auto_reply: bool,
) -> tuple[Conversation, Message, bool]:
    """Seed 001. Stores the message (opening a conversation when none is named) and,
    for a user message with auto_reply in a conversation with an agent, the owed reply
    (reply_owed), in one transaction; generation is enqueued after it commits. Returns
    the conversation, the message and whether a reply was enqueued.

    A message is stored even while a reply is being generated: a customer's words are
    never refused. The reply in progress is then discarded when the model returns and
    one reply is written that sees every message; a person's message pauses the AI, and
    the reply in progress is discarded too (replies.reply_generate)."""
    role = {"user": Role.USER, "agent": Role.AGENT}.get(sender_type, Role.SYSTEM)
    conversation = None
    # The flow, agent and contact come along only for a message that may need them (a
    # reply may be owed, or an agent speaks): the joined look-up costs several times the
    # plain one's Python, and the plain one is the API's hot path.
    needs_agent = role == Role.AGENT or (auto_reply and role == Role.USER)
    # Commonest of all: a message to a conversation named by id that owes no reply, in
    # one round trip (message_append), when nothing else is to be checked first.
    plain = conversation_id is not None and not needs_agent
    parsed = parse_id(conversation_id) if plain else None
    if parsed is not None and reply_to_message_id is None and flow_id is None:
        with _store_failures():
            appended = message_append(
                workspace=workspace,
                conversation_id=parsed,
                role=role,
                text=text,
                sender_id=sender_id,
                sender_type=sender_type,
                metadata=metadata,
            )
        if appended is not None:
            return *appended, False
    if conversation_id is not None:
        if needs_agent:
            conversation = selectors.conversation_for_workspace(
                workspace=workspace, conversation_id=conversation_id
            )
        else:
            conversation = selectors.conversation_row(
                workspace=workspace, conversation_id=conversation_id
            )
    reply_to = None
    if reply_to_message_id is not None:
        if conversation is None:
            raise ApplicationError(
                "Field 'reply_to_message_id' needs a 'conversation_id'.", code="validation_error"
            )
        reply_to = Message.objects.filter(
            conversation=conversation, pk=parse_id(reply_to_message_id)
        ).first()
        if reply_to is None:
            raise ApplicationError(
                "Field 'reply_to_message_id' must name a message of the same conversation.",
                code="validation_error",
            )
    flow = flow_for_workspace(workspace=workspace, flow_id=flow_id) if flow_id else None
    # A message to an existing conversation that owes no reply and speaks for no agent
    # is one write (message_create's), which PostgreSQL takes as one statement, atomic
    # by itself: no BEGIN and COMMIT around it (two round trips, a sixth of the request).
    alone = conversation is not None and not needs_agent and writes_are_one_statement()
    with _store_failures(), nullcontext() if alone else transaction.atomic():
        if conversation is None:
            conversation = conversation_create(
                workspace=workspace, flow=flow or workspace.default_flow
            )
        message = message_create(
            conversation=conversation,
            role=role,
            text=text,
            sender_id=sender_id,
            sender_type=sender_type,
            metadata=metadata,
            reply_to=reply_to,
            status=outbound_status(conversation, role),
        )
        enqueue = (
            auto_reply
            and role == Role.USER
            and reply_owed(conversation=conversation, now=timezone.now()) is not None
        )
        if role == Role.AGENT:
            agent = conversation_agent(conversation)
            # An agent message with a sender other than the agent is a person taking
            # over: the AI steps back, and the person's message goes to the customer.
            human = agent is None or sender_id != str(agent.pk)
            if human and not conversation.ai_paused:
                conversation_pause(conversation=conversation, by=sender_id)
            message_route_outbound(message=message, approved=True)
    return conversation, message, enqueue
