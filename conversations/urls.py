from django.urls import path
from rest_framework.routers import SimpleRouter

from conversations.api import (
    ConversationMessagesView,
    ConversationViewSet,
    EventsView,
    GenerateMessageView,
    MessageCancelView,
    MessageDetailView,
    MessageSendView,
    SendMessageView,
)

router = SimpleRouter(trailing_slash=False)
router.register("conversations", ConversationViewSet, basename="conversation")

urlpatterns = [
    *router.urls,
    path(
        "conversations/<str:conversation_id>/messages",
        ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<str:conversation_id>/messages/<str:message_id>",
        MessageDetailView.as_view(),
        name="conversation-message",
    ),
    path(
        "conversations/<str:conversation_id>/messages/<str:message_id>/send",
        MessageSendView.as_view(),
        name="conversation-message-send",
    ),
    path(
        "conversations/<str:conversation_id>/messages/<str:message_id>/cancel",
        MessageCancelView.as_view(),
        name="conversation-message-cancel",
    ),
    path("messages", SendMessageView.as_view(), name="messages"),
    path(
        "api/conversations/message/generate",
        GenerateMessageView.as_view(),
        name="generate-message",
    ),
    path("events", EventsView.as_view(), name="events"),
]
