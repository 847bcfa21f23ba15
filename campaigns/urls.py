from rest_framework.routers import SimpleRouter

from campaigns.api import CampaignRecipientViewSet, CampaignViewSet

UUID = "[0-9a-fA-F-]{36}"

router = SimpleRouter(trailing_slash=False)
router.register("api/campaigns", CampaignViewSet, basename="campaign")
router.register(
    rf"api/campaigns/(?P<campaign_id>{UUID})/recipients",
    CampaignRecipientViewSet,
    basename="campaign-recipient",
)

urlpatterns = router.urls
