"""The API's hot path, held to what bench/api.py measured: few statements per request,
lists whose cost does not grow with their page, and no lock a workspace's writers share."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from conversations.events import event_record
from conversations.services import message_create
from tests.factories import ConversationFactory

# Seed 001, an existing conversation, no reply: the conversation's touch (which finds it
# in the workspace), the message and its event as one statement, atomic by itself (no
# BEGIN or COMMIT). The key, the rate limit and the webhook check come from memory and
# Redis. The issue allows six.
POST_MESSAGES_STATEMENTS = 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_post_messages_sends_one_statement_and_no_transaction_control(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    body = {
        "conversation_id": str(conversation.pk),
        "sender_id": "customer-1",
        "sender_type": "user",
        "text": "Is my order ready?",
        "auto_reply": False,
    }
    # The first request verifies the key and asks about webhook endpoints; the ones
    # after it are the hot path.
    assert owner.client.post("/v1/messages", body, format="json").status_code == 201

    # Django logs transaction control (BEGIN, COMMIT, SAVEPOINT, ...) with the queries;
    # outside a test transaction (transaction=True) they are the real ones.
    with CaptureQueriesContext(connection) as queries:
        response = owner.client.post("/v1/messages", body, format="json")

    assert response.status_code == 201, response.content
    sent = [query["sql"] for query in queries.captured_queries]
    assert len(sent) <= POST_MESSAGES_STATEMENTS, "\n".join(sent)
    assert sent[-1].startswith("WITH "), sent  # the touch, the message, its event
    assert not any(s in {"BEGIN", "COMMIT"} or "SAVEPOINT" in s for s in sent)
    assert not any("workspaces_workspace" in statement for statement in sent)  # no lock
    assert conversation.messages.count() == 2
    conversation.refresh_from_db()
    assert conversation.message_count == 2


def _queries_for_a_page(client, url: str, limit: int) -> int:
    client.get(url, {"limit": limit})  # anything the first read does once (numbering)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"limit": limit})
    assert len(response.json()["results"]) == limit
    return len(queries)


def test_a_conversations_message_list_costs_the_same_whatever_its_page_size(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    for index in range(40):
        message_create(conversation=conversation, role="user", text=f"Message {index}")
    url = f"/v1/conversations/{conversation.pk}/messages"

    assert _queries_for_a_page(owner.client, url, 5) == _queries_for_a_page(owner.client, url, 40)


def test_the_event_list_costs_the_same_whatever_its_page_size(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    for index in range(40):
        message_create(conversation=conversation, role="user", text=f"Message {index}")

    small = _queries_for_a_page(owner.client, "/v1/events", 5)
    large = _queries_for_a_page(owner.client, "/v1/events", 40)

    assert small == large
    assert small == 1  # nothing left to number: the page says so itself


def test_events_written_since_the_last_read_are_numbered_and_shown_on_a_page_with_room(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    message_create(conversation=conversation, role="user", text="first")
    first = owner.client.get("/v1/events").json()
    message_create(conversation=conversation, role="user", text="second")
    message_create(conversation=conversation, role="user", text="third")

    page = owner.client.get("/v1/events", {"after": first["next"], "limit": 5}).json()

    texts = [event["data"]["message"]["text"] for event in page["results"]]
    assert texts == ["second", "third"]
    assert [event["sequence"] for event in page["results"]] == [
        first["next"] + 1,
        first["next"] + 2,
    ]


def test_a_full_page_leaves_later_events_for_the_next_page_in_order(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    for index in range(3):
        message_create(conversation=conversation, role="user", text=f"m{index}")
    owner.client.get("/v1/events", {"limit": 1})  # numbers all three
    message_create(conversation=conversation, role="user", text="m3")  # not numbered yet

    seen, after = [], 0
    while True:
        page = owner.client.get("/v1/events", {"after": after, "limit": 1}).json()
        seen += [event["data"]["message"]["text"] for event in page["results"]]
        after = page["next"]
        if not page["hasMore"]:
            break

    assert seen == ["m0", "m1", "m2", "m3"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_workspace_do_not_wait_for_each_other(owner):
    """The old event counter on the workspace row made every writer of a workspace wait
    for the one before it to commit."""
    first, second = (ConversationFactory(workspace=owner.workspace) for _ in range(2))
    written, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                message_create(conversation=first, role="user", text="slow")
                event_record(workspace_id=owner.workspace.pk, type="test.slow", data={})
                written.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert written.wait(10)
        started = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            message_create(conversation=second, role="user", text="fast")
        assert time.monotonic() - started < 1.5
    finally:
        release.set()
        thread.join()
    events = owner.client.get("/v1/events").json()["results"]
    assert sorted(e["type"] for e in events) == ["message.created", "message.created", "test.slow"]


@pytest.mark.django_db(transaction=True)
def test_post_messages_costs_one_cache_round_trip(owner, monkeypatch):
    """The rate limit's script: the counter (its expiry comes with the window's first
    hit) and, read with it, whether the workspace has a webhook endpoint, which the
    request asks after its event commits (in autocommit, during the request)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    if not isinstance(caches["default"], RedisCache):
        pytest.skip("counts Redis round trips (set REDIS_URL)")
    import redis

    trips: list[str] = []
    command, pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute

    def counting_command(self, *args: object, **options: object) -> object:
        trips.append(str(args[0]))
        return command(self, *args, **options)

    def counting_pipeline(self, *args: object, **options: object) -> object:
        trips.append("pipeline")
        return pipeline(self, *args, **options)

    conversation = ConversationFactory(workspace=owner.workspace)
    body = {
        "conversation_id": str(conversation.pk),
        "sender_id": "customer-1",
        "sender_type": "user",
        "text": "Is my order ready?",
        "auto_reply": False,
    }
    # The first request loads the script and caches the workspace's "no endpoint".
    owner.client.post("/v1/messages", body, format="json")
    monkeypatch.setattr(redis.Redis, "execute_command", counting_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", counting_pipeline)

    assert owner.client.post("/v1/messages", body, format="json").status_code == 201

    assert trips == ["EVALSHA"]
