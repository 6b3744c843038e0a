"""Which leads a user may see (the role table), and the lead timeline."""

from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber

from accounts.emails import canonical_email
from accounts.models import Role, User
from accounts.selectors import linked_leads_q, user_list_for
from core.errors import NotFound, ValidationFailed
from core.phones import phone_search_terms
from leads.errors import LeadErrorCode
from leads.models import OPEN_STATUSES, Activity, Lead, LeadStatus


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
        return leads.filter(office=user.office_id)
    if user.role == Role.CONSULTANT:
        return leads.filter(assigned_to=user)
    return leads.none()


def lead_get_for(user: User, lead_id) -> Lead:
    try:
        return lead_list_for(user).get(pk=int(lead_id))
    except (Lead.DoesNotExist, TypeError, ValueError):
        raise NotFound("Lead not found.") from None


def linked_student_ids(leads: QuerySet[Lead]) -> QuerySet[Lead, Any]:  # rows: {"student_id"} (a subquery)
    """The students these leads reach: only links that count (`accounts.selectors.linked_leads_q`)."""
    return leads.filter(linked_leads_q()).values("student_id")


def students_for(user: User) -> QuerySet[User]:
    """Students `user` may name: among the people they may see, and the students the leads they may see
    reach (a consultant's leads' students, who may have no office yet; never another office's)."""
    return User.objects.filter(role=Role.STUDENT).filter(
        Q(pk__in=user_list_for(user).values("pk")) | Q(pk__in=linked_student_ids(lead_list_for(user)))
    )


def student_and_lead_for(user: User, *, student_id: int | None, lead_id: int | None) -> tuple[User | None, Lead | None]:
    """The student and the lead `user` names for a document or an appointment, among those they may see;
    else 400 `unknown_student` / `unknown_lead` (a hidden one is unknown too). Whether they may act for
    that person is the service's rule."""
    student = lead = None
    if student_id is not None:
        student = students_for(user).filter(pk=student_id).first()
        if student is None:
            raise ValidationFailed("Unknown student.", code=LeadErrorCode.UNKNOWN_STUDENT)
    if lead_id is not None:
        lead = lead_list_for(user).filter(pk=lead_id).first()
        if lead is None:
            raise ValidationFailed("Unknown lead.", code=LeadErrorCode.UNKNOWN_LEAD)
    return student, lead


def activity_list(lead: Lead) -> QuerySet[Activity]:
    return Activity.objects.filter(lead=lead).select_related("actor").order_by("-created_at", "-id")


def timeline_for(*, lead: Lead | None, student: User | None, limit: int = 50) -> QuerySet[Activity]:
    """A person's timeline: the lead's entries and the student's (the student workspace shows both),
    newest first, at most `limit`. Who may read it is the caller's selector (the lead or the student)."""
    subject = Q(pk__in=[])
    if lead is not None:
        subject |= Q(lead=lead)
    if student is not None:
        subject |= Q(student=student)
    return Activity.objects.filter(subject).select_related("actor").order_by("-created_at", "-id")[:limit]


def lead_duplicates(*, office_id, email: str = "", phone: str = "", exclude_pk=None) -> QuerySet[Lead]:
    match = Q()
    if email:
        match |= Q(email=canonical_email(email))  # stored canonical (accounts/emails.py)
    if phone:
        match |= Q(phone=phone.strip())
    if not match:
        return Lead.objects.none()
    leads = Lead.objects.filter(match, office_id=office_id)
    return leads.exclude(pk=exclude_pk) if exclude_pk else leads


def lead_search(leads: QuerySet[Lead], query: str, *, region: str = "") -> QuerySet[Lead]:
    """Leads whose name, email or phone matches `query`. A query that reads as a phone number matches the
    stored E.164 number however it was typed ("+1 (555) 216-1193", "07700 900123" in a GB office, or a
    run of its digits); `region` is the searcher's office country, for numbers typed the national way."""
    query = query.strip()
    match = Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(email__icontains=query)
    terms = phone_search_terms(query, region=region)
    if terms is None:
        match |= Q(phone__icontains=query)
    else:
        whole, digits = terms
        match |= Q(phone__contains=digits) | (Q(phone=whole) if whole else Q(pk__in=[]))
    return leads.filter(match)


def lead_pipeline_counts(leads: QuerySet[Lead]) -> dict:
    """Leads per pipeline stage, and the open ones no consultant has yet (`unassigned`). One query."""
    counts = leads.order_by().aggregate(
        unassigned=Count("id", filter=Q(status__in=OPEN_STATUSES, assigned_to__isnull=True)),
        **{status: Count("id", filter=Q(status=status)) for status in LeadStatus.values},
    )
    return counts


def lead_board(leads: QuerySet[Lead], *, per_column: int = 40) -> dict[str, list[Lead]]:
    """The board's cards, per stage. Open stages: the longest waiting first; converted and lost: the
    latest first. At most `per_column` each (the column header carries the full count). Two queries."""

    def ranked(statuses, order):
        return list(
            leads.filter(status__in=statuses)
            .annotate(position=Window(RowNumber(), partition_by=F("status"), order_by=order))
            .filter(position__lte=per_column)
            .order_by("status", "position")
        )

    board: dict[str, list[Lead]] = {status: [] for status in LeadStatus.values}
    for lead in ranked(OPEN_STATUSES, [F("created_at").asc(), F("id").asc()]) + ranked(
        [LeadStatus.CONVERTED, LeadStatus.LOST], [F("updated_at").desc(), F("id").desc()]
    ):
        board[lead.status].append(lead)
    return board


def leads_needing_action_for(user: User, *, limit: int = 10) -> QuerySet[Lead]:
    """A consultant's open leads, earliest stage first, then the ones untouched longest."""
    stage = Case(*[When(status=status, then=Value(n)) for n, status in enumerate(OPEN_STATUSES)])
    return (
        lead_list_for(user)
        .filter(assigned_to=user, status__in=OPEN_STATUSES)
        .order_by(stage, "updated_at", "id")[:limit]
    )


def leads_waiting_for_assignment(leads: QuerySet[Lead], *, limit: int = 6) -> QuerySet[Lead]:
    """Open leads with no consultant yet, the longest waiting first."""
    return leads.filter(status__in=OPEN_STATUSES, assigned_to__isnull=True).order_by("created_at", "id")[:limit]
