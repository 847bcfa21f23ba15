from conversations.models import Conversation, Message
from tests.factories import AgentFactory, ConversationFactory, MessageFactory, MessageFlowFactory

URL = "/v1/conversations"


def test_create_conversation_with_state_and_flow(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace)

    response = api_client.post(
        URL,
        {
            "flowId": str(flow.pk),
            "playbook": "Rebook",
            "phase": "start",
            "systemMessage": "Be nice",
            "context": {"a": 1},
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["flowId"] == str(flow.pk)
    assert body["agentId"] == str(flow.agent_id)
    assert (body["playbook"], body["phase"], body["systemMessage"], body["context"]) == (
        "Rebook",
        "start",
        "Be nice",
        {"a": 1},
    )
    assert body["messageCount"] == 0
    assert body["replyStatus"] == "idle"
    assert body["channel"] == "SMS"


def test_create_conversation_with_an_agent(api_client, workspace):
    agent = AgentFactory(workspace=workspace)

    body = api_client.post(URL, {"agentId": str(agent.pk)}, format="json").json()

    assert body["agentId"] == str(agent.pk)
    assert body["flowId"] is None


def test_another_workspaces_flow_or_agent_is_404(api_client, outsider):
    foreign_flow = MessageFlowFactory(workspace=outsider.workspace)

    response = api_client.post(URL, {"flowId": str(foreign_flow.pk)}, format="json")

    assert response.status_code == 404
    assert (
        not Conversation.objects.filter(workspace__isnull=False)
        .exclude(workspace=outsider.workspace)
        .exists()
    )


def test_list_is_paginated_and_filters_by_flow(api_client, workspace):
    flow = MessageFlowFactory(workspace=workspace)
    in_flow = ConversationFactory(workspace=workspace, flow=flow)
    ConversationFactory.create_batch(2, workspace=workspace)

    everything = api_client.get(URL, {"limit": 2}).json()
    rest = api_client.get(everything["next"]).json()
    filtered = api_client.get(URL, {"flowId": str(flow.pk)}).json()

    assert len(everything["results"]) + len(rest["results"]) == 3
    assert [c["_id"] for c in filtered["results"]] == [str(in_flow.pk)]


def test_retrieve_shows_message_count_and_reply_status(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    MessageFactory.create_batch(3, conversation=conversation)

    body = api_client.get(f"{URL}/{conversation.pk}").json()

    assert body["messageCount"] == 3
    assert body["replyStatus"] == "idle"


def test_delete_removes_the_conversation_and_its_messages(api_client, workspace):
    conversation = ConversationFactory(workspace=workspace)
    MessageFactory.create_batch(2, conversation=conversation)

    response = api_client.delete(f"{URL}/{conversation.pk}")

    assert response.status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


def test_another_workspaces_conversation_is_404_everywhere(api_client, outsider):
    theirs = ConversationFactory(workspace=outsider.workspace)

    assert api_client.get(f"{URL}/{theirs.pk}").status_code == 404
    assert api_client.delete(f"{URL}/{theirs.pk}").status_code == 404
    assert api_client.get(URL).json()["results"] == []
    assert Conversation.objects.filter(pk=theirs.pk).exists()


def test_listing_conversations_takes_a_fixed_number_of_queries(
    api_client, workspace, django_assert_max_num_queries
):
    for conversation in ConversationFactory.create_batch(10, workspace=workspace):
        MessageFactory(conversation=conversation)

    with django_assert_max_num_queries(4):
        response = api_client.get(URL)

    assert len(response.json()["results"]) == 10


def test_a_malformed_filter_is_a_400_naming_it(api_client):
    response = api_client.get(URL, {"flowId": "not-an-id"})

    assert response.status_code == 400
    assert response.json()["message"].startswith("Field 'flowId' is invalid")
