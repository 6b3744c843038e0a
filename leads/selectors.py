"""Which leads a user may see (the role table), and the lead timeline."""

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from leads.models import Activity, Lead


def lead_list_for(user: User) -> QuerySet[Lead]:
    """super admin: all; manager: their office and the unassigned queue (no office yet);
    receptionist: their office; consultant: leads assigned to them; student: none."""
    leads = Lead.objects.select_related("office", "assigned_to", "student")
    if not user.is_active:
        return leads.none()
    if user.role == Role.SUPER_ADMIN:
        return leads.all()
    if user.role == Role.MANAGER:
        return leads.filter(Q(office_id=user.office_id) | Q(office__isnull=True))
    if user.role == Role.RECEPTIONIST:
        return leads.filter(office_id=user.office_id)
    if user.role == Role.CONSULTANT:
        return leads.filter(assigned_to=user)
    return leads.none()


def lead_get_for(user: User, lead_id) -> Lead:
    try:
        return lead_list_for(user).get(pk=int(lead_id))
    except (Lead.DoesNotExist, TypeError, ValueError):
        raise NotFound("Lead not found.") from None


def activity_list(lead: Lead) -> QuerySet[Activity]:
    return Activity.objects.filter(lead=lead).select_related("actor").order_by("-created_at", "-id")


def lead_duplicates(*, office_id, email: str = "", phone: str = "", exclude_pk=None) -> QuerySet[Lead]:
    match = Q()
    if email:
        match |= Q(email__iexact=email.strip())
    if phone:
        match |= Q(phone=phone.strip())
    if not match:
        return Lead.objects.none()
    leads = Lead.objects.filter(match, office_id=office_id)
    return leads.exclude(pk=exclude_pk) if exclude_pk else leads
