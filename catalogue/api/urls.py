from catalogue.api import views
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("universities", views.UniversityViewSet, basename="university")
router.register("courses", views.CourseViewSet, basename="course")

urlpatterns = router.urls
