from appointments.api import views
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("appointments", views.AppointmentViewSet, basename="appointment")

urlpatterns = router.urls
