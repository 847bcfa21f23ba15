"""The event log's order: writers insert without a sequence and never wait for each
other; the sequencer numbers committed events before anyone reads; a reader following
`next` sees every event exactly once, in one order shared by every reader."""

import random
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from conversations.events import event_record, events_record, events_sequence
from conversations.models import Event
from conversations.services import message_create
from tests.factories import ConversationFactory, WorkspaceFactory


def test_events_are_numbered_in_insertion_order_after_the_highest_number(workspace):
    first = [event_record(workspace_id=workspace.pk, type=f"test.{i}", data={}) for i in range(3)]
    assert all(event.sequence is None for event in first)

    assert events_sequence(workspace_id=workspace.pk) == 3
    events_record(workspace_id=workspace.pk, events=[(f"test.{i}", None, {}) for i in range(3, 5)])
    assert events_sequence(workspace_id=workspace.pk) == 2
    assert events_sequence(workspace_id=workspace.pk) == 0

    numbered = list(Event.objects.filter(workspace=workspace).order_by("id"))
    assert [e.sequence for e in numbered] == [1, 2, 3, 4, 5]
    assert [e.type for e in numbered] == [f"test.{i}" for i in range(5)]


def test_each_workspace_is_numbered_on_its_own(workspace, outsider):
    for _ in range(2):
        event_record(workspace_id=workspace.pk, type="test.mine", data={})
        event_record(workspace_id=outsider.workspace.pk, type="test.theirs", data={})

    events_sequence(workspace_id=workspace.pk)

    assert sorted(Event.objects.filter(workspace=workspace).values_list("sequence", flat=True)) == [
        1,
        2,
    ]
    assert set(
        Event.objects.filter(workspace=outsider.workspace).values_list("sequence", flat=True)
    ) == {None}


def test_a_large_backlog_is_numbered_in_batches(workspace, monkeypatch):
    from conversations import events

    monkeypatch.setattr(events, "SEQUENCE_BATCH", 4)
    events_record(workspace_id=workspace.pk, events=[("test.x", None, {})] * 10)

    assert events_sequence(workspace_id=workspace.pk) == 10
    assert sorted(Event.objects.values_list("sequence", flat=True)) == list(range(1, 11))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_comes_after_what_a_reader_has_seen(owner):
    """The event inserted first but committed last is numbered after the one a reader
    already saw: the reader's cursor never passes over it."""
    inserted, release = threading.Event(), threading.Event()

    def late_writer() -> None:
        try:
            with transaction.atomic():
                event_record(workspace_id=owner.workspace.pk, type="test.late", data={})
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=late_writer)
    thread.start()
    assert inserted.wait(10)
    event_record(workspace_id=owner.workspace.pk, type="test.early", data={})

    first = owner.client.get("/v1/events").json()
    release.set()
    thread.join()
    second = owner.client.get("/v1/events", {"after": first["next"]}).json()

    assert [e["type"] for e in first["results"]] == ["test.early"]
    assert [e["type"] for e in second["results"]] == ["test.late"]
    assert second["results"][0]["sequence"] == first["next"] + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readers_following_next_see_every_event_once_in_order_while_many_write(owner):
    """Eight writers commit in an order unrelated to their inserts (each waits a random
    moment inside its transaction); two readers page through GET /v1/events with
    `next` meanwhile. Each sees every event exactly once, numbered 1, 2, 3, ... with no
    gap, and both see the same order."""
    writers, per_writer = 8, 25
    conversations = [ConversationFactory(workspace=owner.workspace) for _ in range(writers)]
    done = threading.Event()
    errors: list[BaseException] = []

    def write(conversation) -> None:
        rng = random.Random(str(conversation.pk))  # noqa: S311 - timing jitter, no secret
        try:
            for index in range(per_writer):
                with transaction.atomic():
                    message_create(conversation=conversation, role="user", text=f"m{index}")
                    time.sleep(rng.uniform(0, 0.01))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def read(seen: list[tuple[int, str]]) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner.key}")
        after = 0
        try:
            while True:
                finished = done.is_set()  # before reading: then this read sees everything
                page = client.get("/v1/events", {"after": after, "limit": 7}).json()
                seen.extend((e["sequence"], e["data"]["message"]["_id"]) for e in page["results"])
                after = page["next"]
                if finished and not page["results"]:
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    views: list[list[tuple[int, str]]] = [[], []]
    readers = [threading.Thread(target=read, args=(view,)) for view in views]
    writing = [threading.Thread(target=write, args=(c,)) for c in conversations]
    for thread in readers + writing:
        thread.start()
    for thread in writing:
        thread.join()
    done.set()
    for thread in readers:
        thread.join()

    assert not errors, errors
    total = writers * per_writer
    stored = set(
        Event.objects.filter(workspace=owner.workspace, type="message.created").values_list(
            "data__message___id", flat=True
        )
    )
    assert len(stored) == total
    for view in views:
        assert [sequence for sequence, _ in view] == list(range(1, total + 1))
        assert {message_id for _, message_id in view} == stored
    assert views[0] == views[1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workspaces_numbered_at_once_do_not_mix(owner):
    others = [WorkspaceFactory() for _ in range(3)]
    workspaces = [owner.workspace, *others]
    for workspace in workspaces:
        events_record(workspace_id=workspace.pk, events=[("test.x", None, {})] * 50)

    def number(workspace) -> None:
        try:
            events_sequence(workspace_id=workspace.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=number, args=(w,)) for w in workspaces * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for workspace in workspaces:
        numbers = Event.objects.filter(workspace=workspace).values_list("sequence", flat=True)
        assert sorted(numbers) == list(range(1, 51))
