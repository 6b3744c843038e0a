from core.routers import OptionalSlashRouter
from leads.api import views

router = OptionalSlashRouter()
router.register("leads", views.LeadViewSet, basename="lead")

urlpatterns = router.urls
