import threading
import time

import pytest

from conversations.services import message_create
from tests.factories import ConversationFactory

URL = "/v1/events"


def test_events_are_read_in_order_after_a_cursor(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    for text in ("one", "two", "three"):
        message_create(conversation=conversation, role="user", text=text)

    first = api_client.get(URL, {"limit": 2}).json()
    rest = api_client.get(URL, {"after": first["next"]}).json()

    sequences = [e["sequence"] for e in first["results"] + rest["results"]]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == len(sequences)
    assert first["hasMore"] is True
    assert rest["hasMore"] is False
    texts = [
        e["data"]["message"]["text"]
        for e in first["results"] + rest["results"]
        if e["type"] == "message.created"
    ]
    assert texts == ["one", "two", "three"]


def test_events_filter_by_type_and_conversation(api_client, workspace):
    mine = ConversationFactory(workspace=workspace)
    other = ConversationFactory(workspace=workspace)
    message_create(conversation=mine, role="user", text="a")
    message_create(conversation=other, role="user", text="b")

    body = api_client.get(URL, {"type": "message.created", "conversation": str(mine.pk)}).json()

    assert [e["data"]["message"]["text"] for e in body["results"]] == ["a"]


def test_events_never_include_another_workspaces(api_client, outsider):
    message_create(
        conversation=ConversationFactory(workspace=outsider.workspace), role="user", text="secret"
    )

    assert api_client.get(URL).json()["results"] == []


@pytest.mark.parametrize("after", ["-1", str(2**63), "99999999999999999999"])
def test_a_cursor_outside_the_sequence_range_is_400(api_client, after):
    response = api_client.get(URL, {"after": after})

    assert response.status_code == 400
    assert "after" in response.json()["errors"]


def test_bad_wait_is_400(api_client):
    response = api_client.get(URL, {"wait": 31})

    assert response.status_code == 400
    assert response.json()["message"].startswith("Field 'wait' is invalid")


@pytest.mark.postgres  # SQLite's shared in-memory test database locks across threads
@pytest.mark.django_db(transaction=True)
def test_long_poll_returns_as_soon_as_an_event_arrives(owner):
    conversation = ConversationFactory(workspace=owner.workspace)
    after = owner.client.get(URL).json()["next"]

    def later() -> None:
        time.sleep(0.5)
        message_create(conversation=conversation, role="user", text="late")
        from django.db import connection

        connection.close()

    thread = threading.Thread(target=later)
    started = time.monotonic()
    thread.start()
    body = owner.client.get(URL, {"after": after, "wait": 10}).json()
    elapsed = time.monotonic() - started
    thread.join()

    assert [e["data"]["message"]["text"] for e in body["results"]] == ["late"]
    assert 0.4 < elapsed < 5


def test_long_poll_gives_up_after_wait(api_client):
    started = time.monotonic()

    body = api_client.get(URL, {"wait": 1}).json()

    assert body["results"] == []
    assert time.monotonic() - started >= 1
