"""The console's lead-routing rules: edited by managers, tried against a sample lead before saving (registered by
leads/admin.py)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.validators import MaxValueValidator
from django.http import Http404

from accounts.models import Role, User
from accounts.scoped_admin import ScopedAdmin
from accounts.selectors import consultants_for
from core.errors import ApplicationError
from leads import routing
from leads.models import LeadRoutingRule, LeadSource
from study.vocabulary import StudyLevel, check_country


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
