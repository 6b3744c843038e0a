"""The staff console's one rule: an admin page shows what the API would show its user.

Subclass `ScopedAdmin`, return the app's selector from `scoped_queryset`, and list the roles
that may view / add / change / delete. Objects outside the selector do not exist for the
user (the admin answers as for a missing object). Students never get in: `User.is_staff`
is true for office roles only, and Django's default site admits `is_active and is_staff`.

List filters and form choices by office name only the offices the user may see
(`OfficeInScopeFilter`, `formfield_for_foreignkey`), as `offices.selectors.office_list_for` does for the API.

Writes: override `save_model` / `delete_model` to call the app's services and let their
`ApplicationError` escape; the base turns it into an error message on the same page, and the
whole admin view rolls back (Django runs it in a transaction), so no half-saved record.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect

from accounts.models import MANAGING_ROLES, STAFF_ROLES, Role
from core.errors import ApplicationError
from offices.models import Office
from offices.selectors import office_list_for


class OfficeInScopeFilter(admin.RelatedFieldListFilter):
    """A list filter by office that names only the offices the user may see (the API's selector):
    Django's own lists every office's name and id to anyone who opens the page."""

    scoped = True  # (the console's tripwire test looks for this on every related filter)

    def field_choices(self, field, request, model_admin):
        return [(office.pk, str(office)) for office in office_list_for(request.user).order_by("name")]


class ScopedAdmin(admin.ModelAdmin):  # (for any app's model)
    view_roles: frozenset = frozenset(STAFF_ROLES)
    add_roles: frozenset = MANAGING_ROLES
    change_roles: frozenset = MANAGING_ROLES
    delete_roles: frozenset = frozenset({Role.SUPER_ADMIN})

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        raise NotImplementedError("ScopedAdmin subclasses return their selector's queryset")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def _allowed(self, request, roles, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff and user.role in roles):
            return False
        return obj is None or self._in_scope(request, obj)

    def _in_scope(self, request, obj) -> bool:
        # A page asks view / change / delete permission many times: one query per object and request.
        seen = request.__dict__.setdefault("_scoped_admin_seen", {})
        key = (self.model, obj.pk)
        if key not in seen:
            seen[key] = self.scoped_queryset(request).filter(pk=obj.pk).exists()
        return seen[key]

    def get_list_filter(self, request):
        return [
            ("office", OfficeInScopeFilter) if entry == "office" else entry
            for entry in super().get_list_filter(request)
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Office:  # a form's office choices: the offices the user may see
            kwargs["queryset"] = office_list_for(request.user).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return self._allowed(request, self.view_roles)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.view_roles | self.change_roles, obj)

    def has_add_permission(self, request):
        return self._allowed(request, self.add_roles)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.change_roles, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request, self.delete_roles, obj)

    def _refused(self, request, exc: ApplicationError):
        self.message_user(request, exc.message, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ApplicationError as exc:
            return self._refused(request, exc)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except ApplicationError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request, *args, **kwargs):
        # Bulk actions (delete_selected, app actions) that a service refuses.
        try:
            return super().changelist_view(request, *args, **kwargs)
        except ApplicationError as exc:
            return self._refused(request, exc)


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Records written only by services (timelines, audit logs): the console shows them."""

    add_roles = change_roles = delete_roles = frozenset()
