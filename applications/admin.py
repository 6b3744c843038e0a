from django.contrib import admin
from django.urls import path

from accounts.models import MANAGING_ROLES, STAFF_ROLES
from accounts.scoped_admin import ReadOnlyScopedAdmin, ScopedAdmin
from applications import admin_views, selectors
from applications.models import Application, ChecklistRequirement, ChecklistTemplate
from catalogue.admin import countries_present_filter


@admin.register(Application)
class ApplicationAdmin(ReadOnlyScopedAdmin):
    """Applications are written by the services only: the board and each application's page move them."""

    list_display = ["__str__", "student", "course", "intake", "status", "consultant", "office", "updated_at"]
    list_filter = ["status", countries_present_filter("destination", "destination"), "office"]
    search_fields = ["student__first_name", "student__last_name", "student__email", "course__name"]
    list_select_related = ["student", "course", "consultant", "office"]
    # Every staff role may open the list: a receptionist's is empty, and a hidden application is "not found".
    view_roles = frozenset(STAFF_ROLES)
    change_form_template = "admin/applications/application/change_form.html"
    # (the page's workspace shows the status, the details, the checklist and the history above these)
    fields = ["student", "course", "office", "created_by", "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    def scoped_queryset(self, request):
        return selectors.application_list_for(request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("board/", view(admin_views.board), name="applications_application_board"),
            path("open/", view(admin_views.open_application), name="applications_application_open"),
            path("<int:application_id>/act/", view(admin_views.act), name="applications_application_act"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        found = (
            selectors.application_list_for(request.user).filter(pk=object_id).first()
            if str(object_id).isdigit()
            else None
        )
        extra = admin_views.workspace_context(request, found) if found is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


class RequirementInline(admin.TabularInline):
    model = ChecklistRequirement
    extra = 1
    fields = ["position", "key", "label", "document_kind", "count", "required"]


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(ScopedAdmin):
    """The documents applications need, per destination and level: reference data managers keep (the
    model's constraints hold the rules: one template per scope, unique keys, 1–5 documents an item)."""

    list_display = ["name", "country", "level", "updated_at"]
    list_filter = [countries_present_filter("country"), "level"]
    inlines = [RequirementInline]
    view_roles = frozenset(STAFF_ROLES)
    add_roles = change_roles = delete_roles = MANAGING_ROLES

    def scoped_queryset(self, request):
        return ChecklistTemplate.objects.all()
