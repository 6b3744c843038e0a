from core.routers import OptionalSlashRouter
from proposals.api import views

router = OptionalSlashRouter()
router.register("proposals", views.ProposalViewSet, basename="proposal")

urlpatterns = router.urls
