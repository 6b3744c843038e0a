from core.routers import OptionalSlashRouter
from leads.api import routing_views, views

router = OptionalSlashRouter()
router.register("leads", views.LeadViewSet, basename="lead")
router.register("lead-routing-rules", routing_views.RoutingRuleViewSet, basename="lead-routing-rule")

urlpatterns = router.urls
