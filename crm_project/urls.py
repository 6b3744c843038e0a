from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.admin import console_password_change
from accounts.api.social import social_complete
from messaging.api.realtime_views import SocketStatsView
from messaging.api.schema_views import ws_schema
from notifications import admin_views as notification_admin_views
from notifications import pages as notification_pages
from reports import admin_views, metrics

api_v1 = [
    # Messaging first: its prefixes (conversations/, messages/, attachments/) are its own, and
    # the history page, the busiest route, is then matched without trying every other app's.
    path("", include("messaging.api.urls")),
    path("", include("messaging.api.realtime_urls")),  # before users/<id>
    path("", include("accounts.api.urls")),
    path("", include("privacy.api.urls")),  # users/<id>/export, erase, legal-hold
    path("", include("offices.api.urls")),
    path("", include("leads.api.urls")),
    path("", include("appointments.api.urls")),
    path("", include("documents.api.urls")),
    path("", include("students.api.urls")),
    path("", include("catalogue.api.urls")),
    path("", include("applications.api.urls")),
    path("", include("proposals.api.urls")),
    path("", include("followups.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("devices.api.urls")),
    path("", include("reports.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    # Every path answers with and without its trailing slash (SPEC section 3), these too.
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api-docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^api-redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    re_path(r"^api/ws-schema/?$", ws_schema, name="ws-schema"),  # AsyncAPI 3.0: the /ws/ protocol
    path("admin/reports/", admin.site.admin_view(admin_views.dashboard), name="admin-reports"),
    path(
        "admin/reports/<slug:report>.csv", admin.site.admin_view(admin_views.dashboard_export), name="admin-report-csv"
    ),
    path("admin/monitor/", admin.site.admin_view(admin_views.monitor_list), name="admin-monitor"),
    path(
        "admin/monitor/<int:conversation_id>/",
        admin.site.admin_view(admin_views.monitor_detail),
        name="admin-monitor-detail",
    ),
    path(
        "admin/notification-preferences/",
        admin.site.admin_view(notification_admin_views.preferences),
        name="admin-notification-preferences",
    ),
    path("admin/password_change/", admin.site.admin_view(console_password_change), name="admin-password-change"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    re_path(r"^api/v1/auth/social/complete/?$", social_complete, name="auth-social-complete"),
    re_path(r"^socket-stats/?$", SocketStatsView.as_view(), name="socket-stats"),
    re_path(r"^metrics/?$", metrics.metrics, name="metrics"),
    path("unsubscribe/<str:token>", notification_pages.unsubscribe, name="notification-unsubscribe"),
    path("", include("core.urls")),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
