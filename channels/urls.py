from channels.api import SenderViewSet
from core.routers import routes

urlpatterns = routes(("api/senders", SenderViewSet, "sender"))
