from rest_framework.routers import SimpleRouter

from agents.api import AgentViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/agents", AgentViewSet, basename="agent")

urlpatterns = router.urls
