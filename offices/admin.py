from django.contrib import admin

from core.admin import MANAGERS, ScopedAdmin
from offices import selectors
from offices.models import Office


@admin.register(Office)
class OfficeAdmin(ScopedAdmin):
    list_display = ["name", "timezone", "phone", "email", "is_active"]
    list_filter = ["is_active", "timezone"]
    search_fields = ["name", "address", "email"]
    change_roles = MANAGERS

    def scoped_queryset(self, request):
        return selectors.office_list_for(request.user)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or selectors.office_can_change(request.user, obj))

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["is_active"]
