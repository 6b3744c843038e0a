from django import forms
from django.contrib import admin
from django_countries import countries

from accounts.models import MANAGING_ROLES, STAFF_ROLES
from accounts.scoped_admin import ReadOnlyScopedAdmin, ScopedAdmin
from core.errors import ApplicationError
from proposals import selectors
from proposals.models import LivingCost, Proposal
from study.vocabulary import check_currency


class LivingCostForm(forms.ModelForm):
    """The table's rules asked on the form (a refusal stays on the page, never a database error): one row per
    country, an amount from 0 with at most 12 digits, a real ISO 4217 currency (lower case is upper-cased)."""

    class Meta:
        model = LivingCost
        fields = ["country", "amount", "currency", "notes"]
        help_texts = {"amount": "A year's rent, food and transport for one student", "currency": "ISO 4217, e.g. GBP"}

    def clean_currency(self) -> str:
        try:
            return check_currency((self.cleaned_data.get("currency") or "").strip())
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(LivingCost)
class LivingCostAdmin(ScopedAdmin):
    """A year's living cost per destination country: what proposals add to tuition (an item keeps the
    estimate it was proposed with, so a change here rewrites no proposal). Staff read it; managers keep it."""

    form = LivingCostForm
    list_display = ["country_name", "country", "amount", "currency", "notes", "updated_at"]
    list_display_links = ["country_name", "country"]
    list_filter = ["currency"]
    search_fields = ["country", "currency", "notes"]
    ordering = ["country"]
    list_per_page = 100
    view_roles = frozenset(STAFF_ROLES)
    add_roles = change_roles = delete_roles = MANAGING_ROLES

    def scoped_queryset(self, request):
        return LivingCost.objects.all()

    @admin.display(description="Destination", ordering="country")
    def country_name(self, row: LivingCost) -> str:
        return row.country.name

    def get_search_results(self, request, queryset, search_term):
        """ "United Kingdom" finds GB: the names are django-countries', the column holds the code."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lower()
        if term:
            codes = [code for code, name in countries if term in str(name).lower()]
            if codes:
                found = found | queryset.filter(country__in=codes)
        return found, duplicates


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyScopedAdmin):
    """Proposals are written by the services only (the API, the student workspace)."""

    list_display = ["__str__", "student", "consultant", "status", "expires_at", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["student", "consultant"]
    view_roles = frozenset(STAFF_ROLES)

    def scoped_queryset(self, request):
        return selectors.proposal_list_for(request.user)
