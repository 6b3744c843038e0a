"""Console pages show times in one office's time zone: the staff member's office, or for a super admin the
office they chose (offices.console remembers it); a super admin looking at every office reads UTC. A
page about one office (the calendar, a conversation) may turn to that office's zone itself
(`console_office_in_view`). The page hands the zone and the office's locale to its scripts
(templates/admin/base_site.html), so live rows read the same clock as the rows the server wrote."""

from django.utils import timezone

from accounts.models import Role
from offices.console import CHOSEN_OFFICE_KEY, console_office_in_view
from offices.models import Office


class OfficeTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/admin/"):  # (the API sends ISO 8601 with offsets)
            return self.get_response(request)
        user = getattr(request, "user", None)
        office_id = getattr(user, "office_id", None)
        if office_id is None and getattr(user, "role", None) == Role.SUPER_ADMIN:
            chosen = request.session.get(CHOSEN_OFFICE_KEY) or ""
            office_id = int(chosen) if str(chosen).isdigit() else None
        office = Office.objects.filter(pk=office_id).first() if office_id is not None else None
        console_office_in_view(request, office)
        try:
            return self.get_response(request)  # TemplateResponses render inside, in this time zone
        finally:
            timezone.deactivate()
