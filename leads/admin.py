import csv

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.validators import MaxValueValidator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse

from accounts.models import Role, User
from accounts.scoped_admin import ReadOnlyScopedAdmin, ScopedAdmin
from accounts.selectors import consultants_for
from core.errors import ApplicationError, Conflict
from core.phones import phone_display
from leads import admin_views, routing, selectors, services
from leads.exports import EXPORT_COLUMNS, lead_export_row
from leads.models import Activity, Lead, LeadRoutingRule, LeadSource, LeadStatus
from study.serializers import preferences_clean
from study.vocabulary import StudyLevel, check_country


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
    add_roles = services.LEAD_CREATORS
    change_roles = services.LEAD_CHANGERS
    delete_roles = services.LEAD_ASSIGNERS

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


def _codes(text: str, *, most: int = 50) -> list[str]:
    """ "GB, ca" → ["GB", "CA"], each a real ISO 3166 code, or a form error."""
    codes = list(dict.fromkeys(word.strip() for word in text.split(",") if word.strip()))
    if len(codes) > most:
        raise forms.ValidationError(f"At most {most} countries.")
    try:
        return [check_country(code) for code in codes]
    except ApplicationError as exc:
        raise forms.ValidationError(f"{exc.message} Not one: {exc.details.get('country', '')}") from None


class LeadRoutingRuleForm(forms.ModelForm):
    """The rule, checked as `routing_rule_save` will check it (a refusal stays on the page with what was
    typed), and "Try this rule": a sample lead run through `leads.routing.routing_test` with the rule as it
    stands on the form, unsaved. A try never saves: `is_valid` answers False once the answer is found,
    so the admin shows the form again with it (LeadRoutingRuleAdmin.get_form sets `actor` and `trying`)."""

    sources = forms.MultipleChoiceField(
        choices=LeadSource.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="None: any source"
    )
    countries = forms.CharField(
        required=False, max_length=400, help_text="Wished destinations, ISO codes, e.g. GB, CA. Empty: any"
    )
    levels = forms.MultipleChoiceField(
        choices=StudyLevel.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="None: any level"
    )
    sample_source = forms.ChoiceField(choices=[("", "---------"), *LeadSource.choices], required=False, label="Source")
    sample_countries = forms.CharField(
        required=False, max_length=400, label="Wished countries", help_text="ISO codes, e.g. GB, CA"
    )
    sample_levels = forms.MultipleChoiceField(
        choices=StudyLevel.choices, required=False, widget=forms.CheckboxSelectMultiple, label="Levels"
    )
    actor: User  # set per request by LeadRoutingRuleAdmin.get_form, with `trying`
    trying = False

    class Meta:
        model = LeadRoutingRule
        fields = ["office", "order", "name", "sources", "countries", "levels", "consultant", "round_robin", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tried: dict | None = None
        self.initial["countries"] = ", ".join(self.instance.countries or [])
        if "order" in self.fields:
            self.fields["order"].max_value = 10_000
            self.fields["order"].validators.append(MaxValueValidator(10_000))

    def clean_countries(self) -> list[str]:
        return _codes(self.cleaned_data.get("countries") or "")

    def clean_sample_countries(self) -> list[str]:
        return _codes(self.cleaned_data.get("sample_countries") or "")

    def rule_data(self) -> dict:
        """The rule as `leads.routing` reads it (the API's RoutingRuleInputSerializer's shape)."""
        data = self.cleaned_data
        consultant, round_robin = data.get("consultant"), [user.pk for user in data.get("round_robin") or []]
        office = data.get("office") if self.instance.pk is None else self.instance.office
        return {
            "office_id": office.pk if office is not None else None,
            "order": data.get("order") or 0,
            "name": data.get("name") or "",
            "conditions": {
                "sources": data.get("sources") or [],
                "countries": data.get("countries") or [],
                "levels": data.get("levels") or [],
            },
            "consultant_id": consultant.pk if consultant is not None else None,
            "round_robin": round_robin if consultant is None else None,
            "is_active": data.get("is_active", True),
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:  # the save's own checks (office, one consultant or a round robin of the office's), nothing saved
            routing.routing_rule_build(actor=self.actor, data=self.rule_data(), rule=None)
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
        if self.trying:
            self._try(cleaned)
        return cleaned

    def _try(self, cleaned) -> None:
        if not cleaned.get("sample_source"):
            self.add_error("sample_source", "Choose the sample lead's source to try the rule.")
            return
        sample = routing.SampleLead(
            cleaned["sample_source"],
            tuple(cleaned.get("sample_countries") or ()),
            tuple(cleaned.get("sample_levels") or ()),
        )
        rule_data = self.rule_data()
        try:
            self.tried = routing.routing_test(
                actor=self.actor, sample=sample, office_id=rule_data["office_id"], rule_data=rule_data
            )
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None

    def is_valid(self) -> bool:
        return super().is_valid() and not self.trying  # a try shows its answer and saves nothing


@admin.register(LeadRoutingRule)
class LeadRoutingRuleAdmin(ScopedAdmin):
    """Managers keep their office's routing rules here (the API's `lead-routing-rules/`); every save goes
    through `leads.routing.routing_rule_save`, which refuses consultants of another office. "Try this rule"
    (a button on the form, `_try`) shows whom a sample lead would go to by the rule as typed, unsaved
    (`routing_test`, the API's `lead-routing-rules/test`). A rule outside the user's scope is a 404."""

    form = LeadRoutingRuleForm
    list_display = ["__str__", "office", "order", "sources", "countries", "levels", "consultant", "is_active"]
    list_select_related = ["office", "consultant"]
    fields = ["office", "order", "name", "sources", "countries", "levels", "consultant", "round_robin", "is_active"]
    view_roles = add_roles = change_roles = delete_roles = frozenset({Role.SUPER_ADMIN, Role.MANAGER})

    def scoped_queryset(self, request):
        return routing.routing_rule_list_for(request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        trying = request.method == "POST" and "_try" in request.POST
        return type(form.__name__, (form,), {"actor": request.user, "trying": trying})

    def get_changeform_initial_data(self, request):
        return {"office": request.user.office_id, **super().get_changeform_initial_data(request)}

    def get_readonly_fields(self, request, obj=None):
        return ["office"] if obj is not None else []  # a rule stays in its office (as over the API)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("Routing rule not found.")  # hidden means 404, as over the API

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and isinstance(field.widget, RelatedFieldWidgetWrapper):
            field.widget = field.widget.widget  # no "add / change / view" icons: offices and people are kept elsewhere
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "round_robin":
            # (ticks, not the admin's two-list filter: an office's consultants fit, and its icons fail axe)
            kwargs["queryset"] = consultants_for(request.user)
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "consultant":
            kwargs["queryset"] = consultants_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.rule_data()
        if change:
            data.pop("office_id")
        saved = routing.routing_rule_save(
            actor=request.user, rule=LeadRoutingRule.objects.get(pk=obj.pk) if change else None, data=data
        )
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        pass  # (the service set the round robin)
