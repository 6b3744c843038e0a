from django.contrib import admin, messages
from django.urls import path

from accounts.scoped_admin import ReadOnlyScopedAdmin
from appointments import admin_views, selectors, services
from appointments.models import Appointment
from core.errors import ApplicationError


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyScopedAdmin):
    """Booking happens through the API's rules; the console lists and cancels."""

    list_display = ["title", "start", "end", "status", "consultant", "student", "lead", "office"]
    list_filter = ["status", "office"]
    search_fields = [
        "title",
        "consultant__first_name",
        "consultant__last_name",
        "student__first_name",
        "student__last_name",
        "student__email",
        "lead__first_name",
        "lead__last_name",
        "lead__email",
    ]
    list_select_related = ["consultant", "student", "lead", "office"]
    date_hierarchy = "start"
    actions = ["cancel"]
    change_roles = frozenset()

    def scoped_queryset(self, request):
        return selectors.appointment_list_for(request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("calendar/", view(admin_views.calendar), name="appointments_appointment_calendar"),
            path("calendar/events", view(admin_views.calendar_events), name="appointments_appointment_calendar_events"),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.role in services.STAFF_BOOKERS:  # the staff who may cancel (each their own scope)
            func, name, desc = self.get_action("cancel")
            actions[name] = (func, name, desc)
        return actions

    @admin.action(description="Cancel selected appointments")
    def cancel(self, request, queryset):
        for appointment in queryset:
            try:
                services.appointment_cancel(
                    actor=request.user, appointment=appointment, reason="Cancelled from the console"
                )
            except ApplicationError as exc:
                self.message_user(request, f"{appointment}: {exc.message}", messages.WARNING)
