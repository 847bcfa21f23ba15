"""core.db's statements built once (Prepared, insert_row) give what the ORM gives."""

import uuid

import pytest
from django.forms.models import model_to_dict

from conversations.models import Conversation, Event, Message
from core.db import Prepared, insert_row
from tests.factories import ConversationFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

IN_WORKSPACE = Prepared(
    lambda workspace_id, pk: Conversation.objects.filter(workspace_id=workspace_id, pk=pk),
    workspace_id=uuid.uuid4(),
    pk=uuid.uuid4(),
)


def test_a_prepared_query_reads_the_rows_the_orm_reads():
    conversation = ConversationFactory(context={"dynamic": {"plan": "gold"}}, phase="intro")

    [found] = IN_WORKSPACE(workspace_id=conversation.workspace_id, pk=conversation.pk)

    assert model_to_dict(found) == model_to_dict(Conversation.objects.get(pk=conversation.pk))
    assert found.created_at == Conversation.objects.get(pk=conversation.pk).created_at
    assert found.context == {"dynamic": {"plan": "gold"}}


def test_a_prepared_query_binds_each_call_s_values():
    conversation = ConversationFactory()
    other_workspace = WorkspaceFactory()

    assert IN_WORKSPACE(workspace_id=other_workspace.pk, pk=conversation.pk) == []
    assert IN_WORKSPACE(workspace_id=conversation.workspace_id, pk=uuid.uuid4()) == []
    assert len(IN_WORKSPACE(workspace_id=conversation.workspace_id, pk=conversation.pk)) == 1


def test_a_prepared_query_refuses_joins():
    joined = Prepared(
        lambda pk: Conversation.objects.select_related("flow").filter(pk=pk), pk=uuid.uuid4()
    )

    with pytest.raises(TypeError):
        joined(pk=uuid.uuid4())


def test_insert_row_stores_what_create_would():
    conversation = ConversationFactory()
    message = insert_row(
        Message(
            workspace_id=conversation.workspace_id,
            conversation=conversation,
            role="user",
            text="Hi",
            metadata={"a": 1},
        )
    )
    event = insert_row(Event(workspace_id=conversation.workspace_id, type="x.y", data={"b": 2}))

    stored = Message.objects.get(pk=message.pk)
    assert (stored.text, stored.metadata, stored.created_at) == ("Hi", {"a": 1}, message.created_at)
    assert stored.created_at is not None
    assert not message._state.adding
    assert Event.objects.get(pk=event.pk).data == {"b": 2}  # the generated key came back


ONLY_PHASE = Prepared(
    lambda pk: Conversation.objects.filter(pk=pk).only("phase"),
    pk=uuid.uuid4(),
)


def test_a_prepared_row_is_an_instance_as_the_orm_makes_it():
    conversation = ConversationFactory(phase="intro")

    [found] = IN_WORKSPACE(workspace_id=conversation.workspace_id, pk=conversation.pk)
    [partial] = ONLY_PHASE(pk=conversation.pk)

    assert (found._state.adding, found._state.db) == (False, "default")
    assert found.workspace == conversation.workspace  # relations load as the ORM's do
    partial_orm = Conversation.objects.only("phase").get(pk=conversation.pk)
    assert partial.get_deferred_fields() == partial_orm.get_deferred_fields()
    assert partial.context == conversation.context  # a deferred column loads on access
    found.phase = "closing"
    found.save(update_fields=["phase"])  # an UPDATE, not a second row
    assert Conversation.objects.get(pk=conversation.pk).phase == "closing"


def test_a_model_someone_listens_to_is_made_by_its_own_from_db():
    from django.db.models.signals import post_init

    conversation = ConversationFactory()
    seen = []

    def receiver(sender: type, instance: Conversation, **kwargs: object) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Conversation)
    try:
        listened = Prepared(lambda pk: Conversation.objects.filter(pk=pk), pk=uuid.uuid4())
        [found] = listened(pk=conversation.pk)
    finally:
        post_init.disconnect(receiver, sender=Conversation)

    assert seen == [found]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writes_sent_together_are_one_statement_and_stand_or_fall_together():
    from django.db import IntegrityError, connection
    from django.test.utils import CaptureQueriesContext

    from core.db import Statement, insert_statement, write_together

    conversation = ConversationFactory()
    message = Message(
        workspace_id=conversation.workspace_id, conversation=conversation, role="user", text="a"
    )
    event = Event(workspace_id=conversation.workspace_id, type="x.y", data={})
    with CaptureQueriesContext(connection) as queries:
        write_together([insert_statement(message), insert_statement(event)])

    assert len(queries) == 1
    assert Event.objects.get(pk=event.pk).type == "x.y"  # the generated key came back
    assert Message.objects.filter(pk=message.pk).exists()

    again = Message(
        workspace_id=conversation.workspace_id, conversation=conversation, role="user", text="b"
    )
    duplicate = insert_statement(
        Message(
            id=message.pk,
            workspace_id=conversation.workspace_id,
            conversation=conversation,
            role="user",
            text="c",
        )
    )
    with pytest.raises(IntegrityError):  # in autocommit: the statement alone decides
        write_together(
            [
                insert_statement(again),
                Statement("UPDATE conversations_conversation SET phase = 'x'", []),
                duplicate,
            ]
        )

    assert not Message.objects.filter(pk=again.pk).exists()
    assert not Conversation.objects.filter(phase="x").exists()


def test_values_bound_as_they_are_equal_what_the_fields_would_bind():
    from django.db import connection

    from core.db import _insert_sql, insert_statement

    conversation = ConversationFactory()
    message = Message(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        role="agent",
        sender_id="agent-1",
        text="Hi",
        metadata={"a": 1},
        input_tokens=12,
        send_attempts=0,
    )

    bound = insert_statement(message).params
    _, fields, _ = _insert_sql(Message, "default")

    expected = [
        field.get_db_prep_save(getattr(message, field.attname), connection) for field, _ in fields
    ]
    assert [str(value) for value in bound] == [str(value) for value in expected]
    assert [type(value) for value in bound] == [type(value) for value in expected]


@pytest.mark.postgres
def test_writes_guarded_by_a_row_happen_only_when_the_row_is_there():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.db import Statement, insert_statement, write_if

    conversation = ConversationFactory()
    guard_sql = "UPDATE conversations_conversation SET phase = 'seen' WHERE id = %s RETURNING id"

    def writes() -> tuple[Message, Event, list[Statement]]:
        message = Message(
            workspace_id=conversation.workspace_id, conversation=conversation, role="user"
        )
        event = Event(workspace_id=conversation.workspace_id, type="x.y", data={"a": 1})
        return message, event, [insert_statement(message), insert_statement(event)]

    message, event, statements = writes()
    with CaptureQueriesContext(connection) as queries:
        assert write_if(Statement(guard_sql, [conversation.pk]), statements)

    assert len(queries) == 1
    assert Event.objects.get(pk=event.pk).data == {"a": 1}  # the generated key came back
    assert Message.objects.filter(pk=message.pk, conversation=conversation).exists()
    conversation.refresh_from_db()
    assert conversation.phase == "seen"

    message, event, statements = writes()
    assert not write_if(Statement(guard_sql, [uuid.uuid4()]), statements)

    assert event.pk is None
    assert not Message.objects.filter(pk=message.pk).exists()
    assert Event.objects.filter(type="x.y").count() == 1


def test_only_one_row_inserts_can_be_guarded():
    from core.db import Statement, write_if

    with pytest.raises(ValueError, match="Not an INSERT"):
        write_if(Statement("SELECT 1", []), [Statement("UPDATE t SET a = 1", [])])
