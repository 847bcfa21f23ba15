from rest_framework.routers import SimpleRouter

from webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

# Ids are UUIDs (lookup_value_regex), so /v1/webhooks/twilio/... never reaches these.
UUID = "[0-9a-fA-F-]{36}"

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register(
    rf"webhooks/(?P<endpoint_id>{UUID})/deliveries",
    WebhookDeliveryViewSet,
    basename="webhook-delivery",
)

urlpatterns = router.urls
