from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from agents.api import AgentViewSet
from channels.api import SenderViewSet
from channels.inbound_email import postmark_inbound
from channels.webhooks import TwilioSmsView, TwilioStatusView, email_unsubscribe
from config.health import healthz, readyz
from flows.api import MessageFlowViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/agents", AgentViewSet, basename="agent")
router.register("api/message-flows", MessageFlowViewSet, basename="message-flow")
router.register("api/senders", SenderViewSet, basename="sender")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/", include("conversations.urls")),
    path("v1/webhooks/twilio/status", TwilioStatusView.as_view(), name="twilio-status"),
    path("v1/webhooks/twilio/sms", TwilioSmsView.as_view(), name="twilio-sms"),
    path("v1/webhooks/email/inbound/postmark", postmark_inbound, name="email-inbound-postmark"),
    path("v1/", include("channels.webhook_urls")),
    path("unsubscribe/<str:token>", email_unsubscribe, name="email-unsubscribe"),
    path("v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
