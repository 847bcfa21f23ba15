from core.routers import UUID, routes
from webhooks.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

# Ids are UUIDs (lookup_value_regex), so /v1/webhooks/twilio/... never reaches these.
urlpatterns = routes(
    ("webhooks", WebhookEndpointViewSet, "webhook"),
    (rf"webhooks/(?P<endpoint_id>{UUID})/deliveries", WebhookDeliveryViewSet, "webhook-delivery"),
)
