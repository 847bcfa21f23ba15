from campaigns.api import CampaignRecipientViewSet, CampaignViewSet
from core.routers import UUID, routes

urlpatterns = routes(
    ("api/campaigns", CampaignViewSet, "campaign"),
    (
        rf"api/campaigns/(?P<campaign_id>{UUID})/recipients",
        CampaignRecipientViewSet,
        "campaign-recipient",
    ),
)
