from django.urls import path
from rest_framework.routers import SimpleRouter

from conversations.api import (
    ConversationMessageViewSet,
    ConversationViewSet,
    EventsView,
    GenerateMessageView,
    MessagesView,
)

router = SimpleRouter(trailing_slash=False)
router.register("conversations", ConversationViewSet, basename="conversation")
router.register(
    r"conversations/(?P<conversation_id>[^/.]+)/messages",
    ConversationMessageViewSet,
    basename="conversation-message",
)

urlpatterns = [
    *router.urls,
    path("messages", MessagesView.as_view(), name="messages"),
    path(
        "api/conversations/message/generate",
        GenerateMessageView.as_view(),
        name="generate-message",
    ),
    path("events", EventsView.as_view(), name="events"),
]
