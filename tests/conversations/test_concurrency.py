"""Races that only a real database with concurrent connections can show."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import ConversationFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_generate_reply_calls_one_201_one_409(owner, fake_anthropic):
    conversation = ConversationFactory(workspace=owner.workspace)
    fake_anthropic.default_delay = 1.0
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def call(text: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner.key}")
        barrier.wait()
        response = client.post(
            f"/v1/conversations/{conversation.pk}/messages",
            {"role": "user", "content": text, "action": "generate-reply"},
            format="json",
        )
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=call, args=(t,)) for t in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201, 409]
    assert conversation.messages.filter(role="user").count() == 1
    assert conversation.messages.filter(role="agent").count() == 1
    assert len(fake_anthropic.requests) == 1
