from core.routers import OptionalSlashRouter
from documents.api import views

router = OptionalSlashRouter()
router.register("documents", views.DocumentViewSet, basename="document")

urlpatterns = router.urls
