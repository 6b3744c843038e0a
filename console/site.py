"""The staff console: Django's admin site with a home per role, the console's navigation, the office
switcher of super admins, and the short-lived API token its live pages call the REST API with.

The console's pages live with their apps (`<app>/admin.py` adds them to its ModelAdmin's URLs);
each parses input, calls the app's selectors and services, and renders.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.http import JsonResponse
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_POST
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import MANAGING_ROLES
from accounts.scoped_admin import ListQueryGuard
from applications.services import APPLICATION_HANDLERS
from console.contact import contact_panel
from console.home import home_context
from console.workspace import workspace
from core.compression import carries_secrets
from documents.services import DOCUMENT_REVIEWERS
from messaging.selectors import MONITOR_ROLES

# The console's pages call the REST API with an access token minted for the page (docs/console.md).
CONSOLE_TOKEN_LIFETIME = timedelta(minutes=5)

# (label, URL name, roles): the console's own pages, as each role's navigation shows them; the roles
# are the ones the page's services and selectors let in (reports: managing roles; the monitor: messaging's).
NAVIGATION = [
    ("Today", "admin:index", None),
    ("Inbox", "admin:messaging_conversation_changelist", None),
    ("Lead board", "admin:leads_lead_board", None),
    ("Calendar", "admin:appointments_appointment_calendar", None),
    ("Document review", "admin:documents_document_review", DOCUMENT_REVIEWERS),
    ("Applications", "admin:applications_application_board", APPLICATION_HANDLERS),
    ("Catalogue", "admin:catalogue_course_changelist", None),
    ("Reports", "admin-reports", MANAGING_ROLES),
    ("Live monitor", "admin-monitor", MONITOR_ROLES),
    ("Notifications", "admin-notification-preferences", None),
]


def console_navigation(request) -> list[dict]:
    user = request.user
    if not (user.is_active and user.is_staff):
        return []
    links = []
    for label, name, roles in NAVIGATION:
        if roles is not None and user.role not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a page whose app is not installed
            continue
        current = request.path == url if name == "admin:index" else request.path.startswith(url)
        links.append({"label": label, "url": url, "current": current})
    return links


class ConsoleSite(admin.AdminSite):
    site_header = "Consultancy CRM"
    site_title = "CRM staff console"
    index_title = "Today"
    site_url = None  # staff have no public site: the stock "View site" link led to a 404
    index_template = "admin/console/home.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every list page, ours and third-party ones, sends hostile query values back to its plain
        list instead of a 500 (accounts.scoped_admin.ListQueryGuard; ours have it from ScopedAdmin)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, ListQueryGuard):
            admin_class = type(
                admin_class.__name__, (ListQueryGuard, admin_class), {"__module__": admin_class.__module__}
            )
        return super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        return [
            path("console/token", self.admin_view(console_token), name="console-token"),
            path("console/contact/<int:conversation_id>/", self.admin_view(contact_panel), name="console-contact"),
            path("console/lead/<int:pk>/", self.admin_view(workspace), {"kind": "lead"}, name="console-lead"),
            path("console/student/<int:pk>/", self.admin_view(workspace), {"kind": "student"}, name="console-student"),
            *super().get_urls(),
        ]

    def each_context(self, request):
        return {**super().each_context(request), "console_navigation": console_navigation(request)}

    def index(self, request, extra_context=None):
        return super().index(request, extra_context={**home_context(request), **(extra_context or {})})


@require_POST
def console_token(request):
    """An access token for the console page that asks: POST with the page's CSRF token from a staff
    session (admin_view checks both). No refresh token: the page asks again before this one expires."""
    token = AccessToken.for_user(request.user)
    token.set_exp(lifetime=CONSOLE_TOKEN_LIFETIME)
    response = JsonResponse({"access": str(token), "expires_in": int(CONSOLE_TOKEN_LIFETIME.total_seconds())})
    response["Cache-Control"] = "no-store"
    return carries_secrets(response)
