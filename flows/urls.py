from django.urls import path
from rest_framework.routers import SimpleRouter

from flows.api import MessageFlowViewSet, WorkspaceSettingsView

router = SimpleRouter(trailing_slash=False)
router.register("api/message-flows", MessageFlowViewSet, basename="message-flow")

urlpatterns = [
    *router.urls,
    path("api/workspace", WorkspaceSettingsView.as_view(), name="workspace"),
]
