from rest_framework.routers import SimpleRouter

from flows.api import MessageFlowViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/message-flows", MessageFlowViewSet, basename="message-flow")

urlpatterns = router.urls
