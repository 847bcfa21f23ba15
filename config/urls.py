from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from agents.api import AgentViewSet
from channels.api import SenderViewSet
from channels.webhooks import email_unsubscribe, twilio_status
from config.health import healthz, readyz
from flows.api import MessageFlowViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/agents", AgentViewSet, basename="agent")
router.register("api/message-flows", MessageFlowViewSet, basename="message-flow")
router.register("api/senders", SenderViewSet, basename="sender")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/", include("conversations.urls")),
    path("v1/webhooks/twilio/status", twilio_status, name="twilio-status"),
    path("unsubscribe/<str:token>", email_unsubscribe, name="email-unsubscribe"),
    path("v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
