"""GET /v1/conversations/{id}/messages pages by (created_at, id): every message once, in
order, forward and back, even for messages stored in the same microsecond."""

import uuid
from base64 import b64encode
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from tests.factories import ConversationFactory, MessageFactory


def url(conversation: Conversation) -> str:
    return f"/v1/conversations/{conversation.pk}/messages"


def cursor(**tokens: str) -> str:
    return b64encode(urlencode(tokens).encode()).decode()


@pytest.fixture
def conversation(workspace) -> Conversation:
    return ConversationFactory(workspace=workspace)


def ids(page: dict) -> list[str]:
    return [message["_id"] for message in page["results"]]


def test_pages_go_forward_and_back_over_messages_of_one_microsecond(api_client, conversation):
    for _ in range(7):
        MessageFactory(conversation=conversation)
    Message.objects.filter(conversation=conversation).update(created_at=timezone.now())
    expected = [
        str(pk) for pk in Message.objects.order_by("created_at", "id").values_list("pk", flat=True)
    ]

    forward = [api_client.get(url(conversation), {"limit": 3}).json()]
    while forward[-1]["next"]:
        forward.append(api_client.get(forward[-1]["next"]).json())
    backward = [forward[-1]]
    while backward[-1]["previous"]:
        backward.append(api_client.get(backward[-1]["previous"]).json())

    assert [ids(page) for page in forward] == [expected[0:3], expected[3:6], expected[6:7]]
    assert [ids(page) for page in backward] == [expected[6:7], expected[3:6], expected[0:3]]
    assert forward[0]["previous"] is None
    assert backward[-1]["previous"] is None
    assert ids(api_client.get(backward[1]["next"]).json()) == expected[6:7]


def test_an_empty_conversation_is_an_empty_page(api_client, conversation):
    response = api_client.get(url(conversation))

    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_a_missing_conversation_is_404_in_the_error_shape(api_client):
    response = api_client.get(f"/v1/conversations/{uuid.uuid4()}/messages")

    assert response.status_code == 404
    assert response.json()["message"].startswith("Conversation not found")


def test_another_workspaces_messages_are_not_listed(api_client, outsider):
    theirs = ConversationFactory(workspace=outsider.workspace)
    MessageFactory(conversation=theirs, text="their secret")

    response = api_client.get(url(theirs))

    assert response.status_code == 404
    assert "their secret" not in response.content.decode()


def test_a_cursor_from_the_earlier_pagination_still_pages(api_client, conversation):
    first, second, third = (MessageFactory(conversation=conversation) for _ in range(3))

    # DRF's cursor as the list gave it before: the time alone, and an offset for ties.
    page = api_client.get(url(conversation), {"cursor": cursor(p=str(first.created_at))}).json()

    assert ids(page) == [str(second.pk), str(third.pk)]
    assert page["previous"] is not None


@pytest.mark.parametrize(
    "position",
    [
        "yesterday~" + str(uuid.uuid4()),
        "2026-11-30 10:00:00+00:00~not-an-id",
        "2026-11-30 10:00:00~" + str(uuid.uuid4()),
    ],
)
def test_an_unreadable_cursor_is_404(api_client, conversation, position):
    MessageFactory(conversation=conversation)

    response = api_client.get(url(conversation), {"cursor": cursor(p=position)})

    assert response.status_code == 404
    assert response.json()["message"] == "Invalid cursor"


@pytest.mark.parametrize("position", ["garbage", "2026-13-45", "", "10000-01-01 00:00:00"])
def test_an_earlier_style_cursor_that_names_no_time_is_404(api_client, conversation, position):
    MessageFactory(conversation=conversation)

    response = api_client.get(url(conversation), {"cursor": cursor(p=position)})

    assert response.status_code == 404
    assert response.json()["message"] == "Invalid cursor"


@pytest.mark.parametrize("position", ["abc", "1.5"])
def test_a_campaign_rows_cursor_that_names_no_row_is_404(owner, position):
    from django.utils import timezone

    from campaigns.models import Campaign

    campaign = Campaign.objects.create(
        workspace=owner.workspace, name="Spring", send_at=timezone.now()
    )

    response = owner.client.get(
        f"/v1/api/campaigns/{campaign.pk}/recipients", {"cursor": cursor(p=position)}
    )

    assert response.status_code == 404
    assert response.json()["message"] == "Invalid cursor"
