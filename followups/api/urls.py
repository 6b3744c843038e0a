from core.routers import OptionalSlashRouter
from followups.api import views

router = OptionalSlashRouter()
router.register("tasks", views.TaskViewSet, basename="task")

urlpatterns = router.urls
