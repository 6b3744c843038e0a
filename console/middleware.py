"""Console pages show times in the staff member's office time zone (a super admin's: UTC, unless a
page shows one office and says so itself)."""

from django.utils import timezone

from offices.models import Office


class OfficeTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/admin/"):  # (the API sends ISO 8601 with offsets)
            return self.get_response(request)
        office_id = getattr(getattr(request, "user", None), "office_id", None)
        if office_id is None:
            return self.get_response(request)
        name = Office.objects.filter(pk=office_id).values_list("timezone", flat=True).first()
        if not name:
            return self.get_response(request)
        timezone.activate(name)
        try:
            return self.get_response(request)  # TemplateResponses render inside, in this time zone
        finally:
            timezone.deactivate()
