from agents.api import AgentViewSet
from core.routers import routes

urlpatterns = routes(("api/agents", AgentViewSet, "agent"))
