"""Composition: every app's routes under their prefixes, the schema, health, metrics, the
admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.metrics import MetricsView
from core.health import healthz, readyz

urlpatterns = [
    path("v1/", include("agents.urls")),
    path("v1/", include("flows.urls")),
    path("v1/", include("channels.urls")),
    path("v1/", include("conversations.urls")),
    path("v1/", include("campaigns.urls")),
    path("v1/", include("webhooks.urls")),
    path("", include("conversations.edges.urls")),
    path("v1/schema", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("admin/", admin.site.urls),
]
