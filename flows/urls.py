from django.urls import path

from core.routers import routes
from flows.api import MessageFlowViewSet, WorkspaceSettingsView

urlpatterns = [
    *routes(("api/message-flows", MessageFlowViewSet, "message-flow")),
    path("api/workspace", WorkspaceSettingsView.as_view(), name="workspace"),
]
