from django.contrib import admin

from accounts.models import MANAGING_ROLES, STAFF_ROLES
from accounts.scoped_admin import ReadOnlyScopedAdmin, ScopedAdmin
from proposals import selectors
from proposals.models import LivingCost, Proposal


@admin.register(LivingCost)
class LivingCostAdmin(ScopedAdmin):
    """A year's living cost per destination country: what proposals add to tuition. Managers keep it."""

    list_display = ["country", "amount", "currency", "notes", "updated_at"]
    view_roles = frozenset(STAFF_ROLES)
    add_roles = change_roles = delete_roles = MANAGING_ROLES

    def scoped_queryset(self, request):
        return LivingCost.objects.all()


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyScopedAdmin):
    """Proposals are written by the services only (the API, the student workspace)."""

    list_display = ["__str__", "student", "consultant", "status", "expires_at", "sent_at"]
    list_filter = ["status"]
    list_select_related = ["student", "consultant"]
    view_roles = frozenset(STAFF_ROLES)

    def scoped_queryset(self, request):
        return selectors.proposal_list_for(request.user)
