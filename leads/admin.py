import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from accounts.models import Role, User
from accounts.scoped_admin import ReadOnlyScopedAdmin, ScopedAdmin
from accounts.selectors import consultants_for
from core.errors import ApplicationError, Conflict
from core.phones import phone_display
from leads import admin_views, rules, selectors, services
from leads.exports import EXPORT_COLUMNS, lead_export_row
from leads.models import Activity, Lead, LeadStatus
from study.serializers import preferences_clean
from study.vocabulary import StudyLevel


class AssignForm(forms.Form):
    consultant = forms.ModelChoiceField(queryset=User.objects.none())

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consultant"].queryset = consultants_for(actor)


class LostForm(forms.Form):
    reason = forms.CharField(max_length=255)


WISH_FIELDS = ["wish_countries", "wish_levels", "wish_fields", "wish_intake", "wish_budget", "wish_currency"]


class LeadAdminForm(forms.ModelForm):
    # Shown with the duplicate warning (change_form.html), as the API's confirm_duplicate.
    create_anyway = forms.BooleanField(required=False)
    # What the prospective student looks for (the lead's `preferences`, the profile's at conversion).
    wish_countries = forms.CharField(required=False, label="Countries", help_text="ISO codes, e.g. GB, CA")
    wish_levels = forms.MultipleChoiceField(
        required=False, label="Levels", choices=StudyLevel.choices, widget=forms.CheckboxSelectMultiple
    )
    wish_fields = forms.CharField(required=False, label="Fields of study", help_text="Comma separated")
    wish_intake = forms.CharField(required=False, label="Intake", help_text="YYYY-MM, e.g. 2027-09")
    wish_budget = forms.DecimalField(required=False, label="Budget per year", min_value=0, max_digits=12)
    wish_currency = forms.CharField(required=False, label="Currency", help_text="ISO 4217, e.g. GBP")
    actor = None  # set per request by LeadAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wishes = self.instance.preferences or {}
        self.initial.update(
            wish_countries=", ".join(wishes.get("countries") or []),
            wish_levels=wishes.get("levels") or [],
            wish_fields=", ".join(wishes.get("fields") or []),
            wish_intake=wishes.get("intake") or "",
            wish_budget=wishes.get("budget_per_year"),
            wish_currency=wishes.get("currency") or "",
        )
        if self.instance.pk and self.instance.phone:  # stored E.164, read the office's way
            office = self.instance.office
            self.initial["phone"] = phone_display(self.instance.phone, region=office.country if office else "")

    def preferences(self) -> dict:
        data = self.cleaned_data

        def words(name):
            return [w.strip() for w in (data.get(name) or "").split(",") if w.strip()]

        return {
            "countries": words("wish_countries"),
            "levels": data.get("wish_levels") or [],
            "fields": words("wish_fields"),
            "intake": data.get("wish_intake") or None,
            "budget_per_year": data.get("wish_budget"),
            "currency": data.get("wish_currency") or None,
        }

    class Meta:
        model = Lead
        fields = ["first_name", "last_name", "email", "phone", "source", "office"]

    def clean(self):
        # The services' own checks, asked before saving: a refusal keeps what the user typed on the page.
        cleaned = super().clean()
        try:
            services.lead_check_contact(email=cleaned.get("email") or "", phone=cleaned.get("phone") or "")
            preferences_clean(self.preferences())
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message + _first_detail(exc.details)) from None
        self.duplicate = None
        if self.errors or cleaned.get("create_anyway"):
            return cleaned
        lead = self.instance if self.instance.pk else None
        contact = {k: cleaned.get(k) or "" for k in ("email", "phone") if lead is None or k in self.changed_data}
        try:
            services.lead_check_duplicates(actor=self.actor, office=cleaned.get("office"), lead=lead, **contact)
        except Conflict as exc:
            self.duplicate = exc.details
            raise forms.ValidationError(exc.message) from None
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
        return cleaned


def _first_detail(details: dict) -> str:
    """`: intake: An intake is written YYYY-MM` from the preferences' per-field details."""
    found = details.get("preferences")
    if not isinstance(found, dict) or not found:
        return ""
    field, problems = next(iter(found.items()))
    return f" ({field}: {problems[0] if isinstance(problems, list) else problems})"


class WorkspaceChangeList(ChangeList):
    """Each row opens the lead's workspace (console/workspace.py); its stock form is one click from there."""

    def url_for_result(self, result):
        return reverse("admin:console-lead", args=[result.pk])


@admin.register(Lead)
class LeadAdmin(ScopedAdmin):
    form = LeadAdminForm
    list_display = ["__str__", "email", "phone_number", "status", "source", "office", "assigned_to", "created_at"]
    list_filter = ["status", "source", "office"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    list_select_related = ["office", "assigned_to"]
    readonly_fields = [
        "status",
        "lost_reason",
        "office",
        "assigned_to",
        "student_account",
        "created_by",
        "converted_at",
    ]
    fields = ["first_name", "last_name", "email", "phone", "source", *WISH_FIELDS, *readonly_fields]
    actions = ["assign", "mark_lost", "export_csv"]
    add_roles = rules.LEAD_CREATORS
    change_roles = rules.LEAD_CHANGERS
    delete_roles = rules.LEAD_ASSIGNERS

    def scoped_queryset(self, request):
        return selectors.lead_list_for(request.user)

    @admin.display(description="Student")
    def student_account(self, lead):
        return lead.linked_student or "-"  # never another office's student (Lead.linked_student)

    @admin.display(description="phone", ordering="phone")
    def phone_number(self, lead: Lead) -> str:
        return phone_display(lead.phone, region=lead.office.country if lead.office else "")

    def get_changelist(self, request, **kwargs):
        return WorkspaceChangeList

    def get_search_results(self, request, queryset, search_term):
        """Names, emails and phone numbers as the API's `q` searches them (a number typed any way)."""
        if not search_term.strip():
            return queryset, False
        office = request.user.office
        return selectors.lead_search(queryset, search_term, region=office.country if office else ""), False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("board/", view(admin_views.board), name="leads_lead_board"),
            path("<int:lead_id>/act/", view(admin_views.act), name="leads_lead_act"),
            *super().get_urls(),
        ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_fields(self, request, obj=None):
        # A super admin picks the office of a new lead; everyone else adds to their own.
        if obj is None and request.user.role == Role.SUPER_ADMIN:
            return ["first_name", "last_name", "email", "phone", "source", "office", *WISH_FIELDS]
        return self.fields if obj is not None else ["first_name", "last_name", "email", "phone", "source", *WISH_FIELDS]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("first_name", "last_name", "email", "phone", "source")}
        data["preferences"] = form.preferences()
        confirmed = form.cleaned_data.get("create_anyway", False)
        if change:
            changed = {k: v for k, v in data.items() if k in form.changed_data}
            if set(WISH_FIELDS) & set(form.changed_data):
                changed["preferences"] = data["preferences"]
            services.lead_update(
                actor=request.user, lead=Lead.objects.get(pk=obj.pk), confirm_duplicate=confirmed, **changed
            )
        else:
            obj.pk = services.lead_create(
                actor=request.user, confirm_duplicate=confirmed, office=form.cleaned_data.get("office"), **data
            ).pk

    def response_add(self, request, obj, post_url_continue=None):
        if request.POST.get("then") == "calendar":  # the receptionist's walk-in: book it next
            self.message_user(
                request, f"{obj} added. Pick a free slot to book the first appointment.", messages.SUCCESS
            )
            return HttpResponseRedirect(f"{reverse('admin:appointments_appointment_calendar')}?lead={obj.pk}")
        return super().response_add(request, obj, post_url_continue)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = selectors.lead_list_for(request.user).filter(pk=object_id).first() if str(object_id).isdigit() else None
        extra = admin_views.workspace_context(request, lead) if lead is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def delete_model(self, request, obj):
        services.lead_delete(actor=request.user, lead=obj)

    def _each(self, request, queryset, work):
        done = 0
        for lead in queryset:
            try:
                work(lead)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{lead}: {exc.message}", messages.WARNING)
        return done

    @admin.action(description="Assign to a consultant")
    def assign(self, request, queryset):
        form = AssignForm(request.POST if "apply" in request.POST else None, actor=request.user)
        if form.is_valid():
            consultant = form.cleaned_data["consultant"]
            done = self._each(
                request,
                queryset,
                lambda lead: services.lead_assign(actor=request.user, lead=lead, consultant=consultant),
            )
            self.message_user(request, f"Assigned {done} lead(s) to {consultant.full_name}.")
            return None
        return render(
            request,
            "admin/leads/action_form.html",
            {
                "title": "Assign leads",
                "form": form,
                "leads": queryset,
                "action": "assign",
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Mark as lost")
    def mark_lost(self, request, queryset):
        form = LostForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            done = self._each(
                request,
                queryset,
                lambda lead: services.lead_change_status(
                    actor=request.user, lead=lead, status=LeadStatus.LOST, lost_reason=reason
                ),
            )
            self.message_user(request, f"Marked {done} lead(s) as lost.")
            return None
        return render(
            request,
            "admin/leads/action_form.html",
            {
                "title": "Mark leads as lost",
                "form": form,
                "leads": queryset,
                "action": "mark_lost",
                "opts": self.model._meta,
            },
        )

    @admin.action(description="Export selected as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="leads.csv"'
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        for lead in queryset.select_related("office", "assigned_to"):
            writer.writerow(lead_export_row(lead))
        return response


@admin.register(Activity)
class ActivityAdmin(ReadOnlyScopedAdmin):
    """The timeline is written by the services only; here it can be searched across leads."""

    list_display = ["created_at", "kind", "lead", "student", "actor", "text"]
    list_filter = ["kind"]
    search_fields = ["text", "lead__first_name", "lead__last_name", "lead__email"]
    list_select_related = ["lead", "student", "actor"]

    def scoped_queryset(self, request):
        return Activity.objects.filter(lead__in=selectors.lead_list_for(request.user))


from leads import routing_admin  # noqa: E402, F401  (registers the routing rules' admin)
