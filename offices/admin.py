from django.contrib import admin
from django.db import transaction

from accounts.models import MANAGING_ROLES
from accounts.scoped_admin import ScopedAdmin
from offices import selectors, services
from offices.models import Office
from offices.services import OFFICE_FIELDS


@admin.register(Office)
class OfficeAdmin(ScopedAdmin):
    list_display = ["name", "timezone", "phone", "email", "is_active"]
    list_filter = ["is_active", "timezone"]
    search_fields = ["name", "address", "email"]
    change_roles = MANAGING_ROLES

    def scoped_queryset(self, request):
        return selectors.office_list_for(request.user)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or selectors.office_can_change(request.user, obj))

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["is_active"]

    # Same services as the API: a refusal escapes to ScopedAdmin, which shows it.
    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k in OFFICE_FIELDS}
        if change:
            changed = {k: data[k] for k in form.changed_data if k in data}
            saved = services.office_update(actor=request.user, office=Office.objects.get(pk=obj.pk), **changed)
        else:
            saved = services.office_create(actor=request.user, **data)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.office_delete(actor=request.user, office=obj)

    @transaction.atomic  # one refused office leaves every selected office in place
    def delete_queryset(self, request, queryset):
        for office in queryset:
            services.office_delete(actor=request.user, office=office)
