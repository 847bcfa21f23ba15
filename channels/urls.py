from rest_framework.routers import SimpleRouter

from channels.api import SenderViewSet

router = SimpleRouter(trailing_slash=False)
router.register("api/senders", SenderViewSet, basename="sender")

urlpatterns = router.urls
