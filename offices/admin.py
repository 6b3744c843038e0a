from typing import TYPE_CHECKING

from django.contrib import admin
from django.db import transaction

from accounts.models import MANAGING_ROLES
from accounts.scoped_admin import ScopedAdmin
from offices import selectors, services
from offices.models import ClosedDay, Office, OpeningHours
from offices.services import OFFICE_FIELDS

if TYPE_CHECKING:  # (generic for the type checker only)
    _HoursInline = admin.TabularInline[OpeningHours, Office]
    _ClosedInline = admin.TabularInline[ClosedDay, Office]
else:
    _HoursInline = _ClosedInline = admin.TabularInline


class _OfficeRowsPermissions:
    """An office's rows are edited by whoever may change the office (roles, not Django's permission tables)."""

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and request.user.role in MANAGING_ROLES

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request) and (obj is None or selectors.office_can_change(request.user, obj))

    has_add_permission = has_delete_permission = has_change_permission

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        """A tabular row's inputs have column headings but no labels: each gets its name read aloud."""
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            field.widget.attrs.setdefault("aria-label", str(db_field.verbose_name).capitalize())
        return field


class OpeningHoursInline(_OfficeRowsPermissions, _HoursInline):
    """One row per open weekday; a weekday without a row is closed (saved by `office_update`)."""

    model = OpeningHours
    extra = 0
    max_num = 7
    verbose_name = "opening hours on a weekday"
    verbose_name_plural = "Opening hours (a weekday not listed is closed; none listed: Monday to Friday, 09:00–17:00)"


class ClosedDayInline(_OfficeRowsPermissions, _ClosedInline):
    model = ClosedDay
    extra = 1
    verbose_name_plural = "Closed days (holidays)"


@admin.register(Office)
class OfficeAdmin(ScopedAdmin):
    list_display = ["name", "timezone", "country", "phone", "email", "is_active"]
    list_filter = ["is_active", "timezone"]
    search_fields = ["name", "address", "email"]
    fields = ["name", "address", "phone", "email", "timezone", "country", "is_active"]
    inlines = [OpeningHoursInline, ClosedDayInline]
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

    def save_related(self, request, form, formsets, change):
        """The inlines' rows as the whole week and the whole list of closed days, through `office_update`
        (its checks, one transaction with the office's own fields)."""
        lists = {}
        for formset in formsets:
            rows = [
                {k: v for k, v in f.cleaned_data.items() if k not in ("id", "office", "DELETE")}
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            if rows or formset.model is ClosedDay or change:  # a new office without rows: the default week
                lists["opening_hours" if formset.model is OpeningHours else "closed_days"] = rows
        services.office_update(actor=request.user, office=Office.objects.get(pk=form.instance.pk), **lists)
        for formset in formsets:  # (the admin's change message reads what a formset's own save would set)
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        services.office_delete(actor=request.user, office=obj)

    @transaction.atomic  # one refused office leaves every selected office in place
    def delete_queryset(self, request, queryset):
        for office in queryset:
            services.office_delete(actor=request.user, office=office)
