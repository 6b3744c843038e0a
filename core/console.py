"""The staff console: Django's admin site with a home per role, the console's navigation, the office
switcher of super admins, and the short-lived API token its live pages call the REST API with.

The console's pages live with their apps (`<app>/admin.py` adds them to its ModelAdmin's URLs);
each parses input, calls the app's selectors and services, and renders.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.http import Http404, JsonResponse
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_POST

from accounts.models import Role

# The console's pages call the REST API with an access token minted for the page (docs/console.md).
CONSOLE_TOKEN_LIFETIME = timedelta(minutes=5)

MANAGING = (Role.SUPER_ADMIN, Role.MANAGER)
REVIEWING = (Role.SUPER_ADMIN, Role.MANAGER, Role.CONSULTANT)
# (label, URL name, roles): the console's own pages, as each role's navigation shows them.
NAVIGATION = [
    ("Today", "admin:index", None),
    ("Inbox", "admin:messaging_conversation_changelist", None),
    ("Lead board", "admin:leads_lead_board", None),
    ("Calendar", "admin:appointments_appointment_calendar", None),
    ("Document review", "admin:documents_document_review", REVIEWING),
    ("Reports", "admin-reports", MANAGING),
    ("Live monitor", "admin-monitor", MANAGING),
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


def office_in_view(request, *, everyone: bool = True):
    """The office a console page shows. A super admin picks one with `?office=` (None: every office,
    or the first one when the page needs one, `everyone=False`); anyone else sees their own. An
    office outside the user's selector is a 404, like any hidden object."""
    from core.errors import NotFound
    from offices.selectors import office_get_for, office_list_for

    user = request.user
    raw = request.GET.get("office") or None
    if raw is None and user.role == Role.SUPER_ADMIN:
        return None if everyone else office_list_for(user).first()
    try:
        return office_get_for(user, raw if raw is not None else user.office_id)
    except NotFound:
        raise Http404("Office not found.") from None


class ConsoleSite(admin.AdminSite):
    site_header = "Consultancy CRM"
    site_title = "CRM staff console"
    index_title = "Today"
    site_url = None  # staff have no public site: the stock "View site" link led to a 404
    index_template = "admin/console/home.html"

    def get_urls(self):
        return [path("console/token", self.admin_view(console_token), name="console-token"), *super().get_urls()]

    def each_context(self, request):
        return {**super().each_context(request), "console_navigation": console_navigation(request)}

    def index(self, request, extra_context=None):
        from core.home import home_context

        return super().index(request, extra_context={**home_context(request), **(extra_context or {})})


@require_POST
def console_token(request):
    """An access token for the console page that asks: POST with the page's CSRF token from a staff
    session (admin_view checks both). No refresh token: the page asks again before this one expires."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(request.user)
    token.set_exp(lifetime=CONSOLE_TOKEN_LIFETIME)
    response = JsonResponse({"access": str(token), "expires_in": int(CONSOLE_TOKEN_LIFETIME.total_seconds())})
    response["Cache-Control"] = "no-store"
    return response
