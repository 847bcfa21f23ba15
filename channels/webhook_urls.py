from rest_framework.routers import SimpleRouter

from channels.webhook_api import WebhookEndpointViewSet

# Ids are UUIDs (lookup_value_regex), so /v1/webhooks/twilio/... never reaches this.
router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = router.urls
