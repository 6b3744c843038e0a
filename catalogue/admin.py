"""The catalogue in the console: universities and courses (search, filters; super admins and managers
write, through `catalogue.services`), and the CSV import with the same per-row report as the command."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django_countries import countries

from accounts.models import STAFF_ROLES
from accounts.scoped_admin import ScopedAdmin
from catalogue import importer, selectors, services
from catalogue.models import Course, University
from core.errors import ApplicationError

MAX_IMPORT_BYTES = 5 * 1024 * 1024


def countries_present_filter(field: str, title: str = "country") -> type[admin.SimpleListFilter]:
    """A country filter listing the countries there are (Django's lists all 250 of ISO 3166)."""

    class CountriesPresent(admin.SimpleListFilter):
        parameter_name = field.replace("__", "_")
        scoped = True  # its countries come from the page's own scoped queryset (a selector)

        def lookups(self, request, model_admin):
            codes = model_admin.get_queryset(request).order_by().values_list(field, flat=True).distinct()
            return sorted((str(code), countries.name(str(code))) for code in codes if code)

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    CountriesPresent.title = title
    return CountriesPresent


@admin.register(University)
class UniversityAdmin(ScopedAdmin):
    list_display = ["name", "country", "city", "partnership", "commission_rate", "course_count"]
    list_filter = [countries_present_filter("country"), "partnership"]
    search_fields = ["name", "city"]
    fields = ["name", "country", "city", "website", "partnership", "commission_rate", "notes"]
    view_roles = frozenset(STAFF_ROLES)
    add_roles = change_roles = delete_roles = services.CATALOGUE_WRITERS

    def scoped_queryset(self, request):
        return selectors.university_list_for(request.user)

    @admin.display(description="courses", ordering="course_count")
    def course_count(self, university):
        return university.course_count

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("import/", view(import_view), name="catalogue_university_import"), *super().get_urls()]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.fields}
        data["country"] = str(data["country"])
        if change:
            services.university_update(actor=request.user, university=obj, data=data)
        else:
            obj.pk = services.university_create(actor=request.user, data=data).pk

    def delete_model(self, request, obj):
        services.university_delete(actor=request.user, university=obj)


class CourseAdminForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = [
            "university",
            "name",
            "level",
            "field",
            "duration_months",
            "tuition_fee",
            "currency",
            "intakes",
            "min_ielts",
            "min_toefl",
            "min_pte",
            "min_gpa",
            "requirement_notes",
            "is_active",
        ]


@admin.register(Course)
class CourseAdmin(ScopedAdmin):
    form = CourseAdminForm
    list_display = ["name", "university", "level", "field", "tuition_fee", "currency", "intakes", "is_active"]
    list_filter = ["level", countries_present_filter("university__country"), "currency", "is_active"]
    search_fields = ["name", "field", "university__name"]
    list_select_related = ["university"]
    autocomplete_fields = ["university"]
    view_roles = frozenset(STAFF_ROLES)
    add_roles = change_roles = delete_roles = services.CATALOGUE_WRITERS

    def scoped_queryset(self, request):
        return selectors.course_list_for(request.user)

    def get_search_results(self, request, queryset, search_term):
        # The console's search box uses the stored vector, as the API's `q` does.
        query = selectors.search_query(search_term) if search_term else None
        if query is None:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(search_vector=query), False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        body = {
            "university_id": data["university"].pk,
            **{
                k: data[k]
                for k in ("name", "level", "field", "duration_months", "tuition_fee", "currency", "is_active")
            },
            "intakes": list(data["intakes"]),
            "requirements": {
                **{k: data[k] for k in services.REQUIREMENT_FIELDS},
                "notes": data["requirement_notes"],
            },
        }
        if change:
            services.course_update(actor=request.user, course=obj, data=body)
        else:
            obj.pk = services.course_create(actor=request.user, data=body).pk

    def delete_model(self, request, obj):
        services.course_delete(actor=request.user, course=obj)


def import_view(request):
    """Upload a CSV: every row checked, nothing written if one fails; the report lists row, column, reason."""
    if request.user.role not in services.CATALOGUE_WRITERS:
        raise PermissionDenied("Only managers and super admins change the catalogue.")
    report = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a CSV file.")
        elif upload.size > MAX_IMPORT_BYTES:
            messages.error(request, "Import files are at most 5 MB.")
        else:
            try:
                report = importer.catalogue_import(
                    actor=request.user, data=upload.read(), dry_run=request.POST.get("dry_run") == "1"
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                if report.errors:
                    messages.error(
                        request, f"{len(report.errors)} problem(s) in {report.rows} rows: nothing was written."
                    )
                elif report.written:
                    messages.success(
                        request,
                        f"Imported {report.rows} rows: {report.universities_created} universities and "
                        f"{report.courses_created} courses new, {report.universities_updated} and "
                        f"{report.courses_updated} updated.",
                    )
                else:
                    messages.success(request, f"All {report.rows} rows are valid (checked only, nothing written).")
    return TemplateResponse(
        request,
        "admin/catalogue/import.html",
        {
            **admin.site.each_context(request),
            "title": "Import the catalogue",
            "report": report,
            "columns": importer.COLUMNS,
            "opts": University._meta,
        },
    )
