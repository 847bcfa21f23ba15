from django.urls import path

from conversations.api import (
    ConversationMessageViewSet,
    ConversationViewSet,
    EventsView,
    GenerateMessageView,
    MessagesView,
)
from core.routers import routes

urlpatterns = [
    *routes(
        ("conversations", ConversationViewSet, "conversation"),
        (
            r"conversations/(?P<conversation_id>[^/.]+)/messages",
            ConversationMessageViewSet,
            "conversation-message",
        ),
    ),
    path("messages", MessagesView.as_view(), name="messages"),
    path(
        "api/conversations/message/generate",
        GenerateMessageView.as_view(),
        name="generate-message",
    ),
    path("events", EventsView.as_view(), name="events"),
]
