from applications.api import views
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("applications", views.ApplicationViewSet, basename="application")

urlpatterns = router.urls
