from core.routers import OptionalSlashRouter
from offices.api import views

router = OptionalSlashRouter()
router.register("offices", views.OfficeViewSet, basename="office")

urlpatterns = router.urls
