"""The console's home: what each staff role's day needs first, each item a link to where to act.

Every figure comes from the apps' selectors, scoped like the API; each role's home runs a fixed
number of queries (pinned in console/tests/test_console.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby

from django.db.models import Count, Window
from django.utils import timezone

from accounts.models import Role
from applications.selectors import application_list_for
from applications.transitions import ApplicationStatus
from appointments.selectors import appointment_agenda_for, calendar_consultants_for, office_today
from appointments.services import free_slots
from documents.selectors import document_list_for, documents_pending_for
from followups.selectors import overdue_tasks_for, tasks_due_today_for
from leads.models import LeadSource, LeadStatus
from leads.selectors import lead_list_for, lead_pipeline_counts, leads_needing_action_for, leads_waiting_for_assignment
from messaging.console_rows import conversation_rows, inbox_rows
from messaging.selectors import (
    conversations_waiting_for_staff,
    monitorable_conversations,
    unread_by_consultant,
    unread_total,
)
from offices.console import office_in_view
from proposals.selectors import proposals_awaiting_student

AROUND = 6  # rows per list of what waits on the user (the tile has the full count)
DEPOSIT_DAYS = 14  # deposits due within two weeks (or overdue)


def home_context(request) -> dict:
    user = request.user
    if not (user.is_active and user.is_staff):
        return {}
    build, template = HOMES[user.role]
    return {"home": build(request), "home_template": f"admin/console/{template}", "around": _waiting_on_me(user)}


def _first(queryset, limit: int = AROUND) -> tuple[list, int]:
    """The first rows and the full count, in one query (a window count over the rows before the limit)."""
    rows = list(queryset.annotate(total=Window(Count("id")))[:limit])
    return rows, (rows[0].total if rows else 0)


def _waiting_on_me(user) -> dict:
    """Issue 22 on every staff home: my tasks due today and overdue (the day in my office's zone), the
    applications waiting on me (checklist documents to review, offers to record, deposits due) and the
    proposals awaiting the student's answer. A fixed number of queries (pinned with the homes')."""
    now = timezone.now()
    overdue = list(overdue_tasks_for(user, now=now)[:AROUND])
    today = list(tasks_due_today_for(user, now=now)[:AROUND])
    out: dict = {"overdue": overdue, "due_today": today, "handles_applications": False, "today": timezone.localdate()}
    mine = application_list_for(user).prefetch_related(None)
    if user.role == Role.RECEPTIONIST:  # (no applications nor proposals at the front desk)
        return out
    open_ones = mine.exclude(status__in=[ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED])
    reviews, reviews_count = _first(
        document_list_for(user)
        .filter(status="pending", student_id__in=open_ones.values("student_id"))
        .select_related("student")
        .order_by("created_at", "id")
    )
    offers, offers_count = _first(mine.filter(status=ApplicationStatus.SUBMITTED).order_by("updated_at", "id"))
    horizon = timezone.localdate() + timedelta(days=DEPOSIT_DAYS)
    deposits, deposits_count = _first(
        mine.filter(
            status__in=[ApplicationStatus.CONDITIONAL_OFFER, ApplicationStatus.UNCONDITIONAL_OFFER,
                        ApplicationStatus.OFFER_ACCEPTED],
            deposit_due__isnull=False,
            deposit_due__lte=horizon,
        ).order_by("deposit_due", "id")
    )  # fmt: skip
    proposals, proposals_count = _first(
        proposals_awaiting_student(user, now=now).prefetch_related(None).select_related("student")
    )
    return {
        **out,
        "handles_applications": True,
        "reviews": reviews,
        "reviews_count": reviews_count,
        "offers": offers,
        "offers_count": offers_count,
        "deposits": deposits,
        "deposits_count": deposits_count,
        "proposals": proposals,
        "proposals_count": proposals_count,
    }


def _agenda(appointments) -> list[dict]:
    """Appointments grouped by their office's local day, each with its attendee (student or lead)."""
    rows = []
    for appointment in appointments:
        appointment.attendee = appointment.student or appointment.lead
        rows.append(appointment)
    return [
        {"day": day, "appointments": list(items)}
        for day, items in groupby(rows, key=lambda a: a.start.astimezone(a.office.tzinfo).date())
    ]


def _today_count(agenda: list[dict], offices) -> int:
    """Appointments on their own office's today: when Sydney's Saturday has begun, London's and Toronto's
    Saturdays are still tomorrow there."""
    todays = {office.pk: office_today(office) for office in offices}
    return sum(
        1
        for group in agenda
        for appointment in group["appointments"]
        if group["day"] == todays.get(appointment.office_id)
    )


def _inbox(user, limit: int = 8) -> dict:
    return {"rows": inbox_rows(user, limit), "unread": unread_total(user)}


def _office_home(request) -> dict:
    """Managers (their office) and super admins (every office, or the one chosen)."""
    user = request.user
    view = office_in_view(request)
    office, every_office = view.office, view.switcher()
    offices = [office] if office is not None else every_office
    chosen = view.narrowed_id
    leads, conversations = lead_list_for(user), monitorable_conversations(user)
    if chosen is not None:
        leads, conversations = leads.filter(office_id=chosen), conversations.filter(office_id=chosen)
    agenda = _agenda(appointment_agenda_for(user, offices=offices, days=3))
    waiting = conversations_waiting_for_staff(conversations)
    consultants = list(unread_by_consultant(user, office_id=chosen))
    documents = documents_pending_for(user, office_id=chosen)
    pipeline = lead_pipeline_counts(leads)
    waiting_rows = conversation_rows(waiting[:8], user)
    first_documents = list(documents[:5])
    for document in first_documents:
        document.owner = document.student or document.lead  # type: ignore[attr-defined]  # for the template
    return {
        "office": office,
        "offices": every_office,
        "office_query": f"?office={chosen}" if chosen else "",
        "agenda": agenda,
        "appointments_today": _today_count(agenda, offices),
        "pipeline": [(status, label, pipeline[status]) for status, label in LeadStatus.choices],
        "unassigned": pipeline["unassigned"],
        "unassigned_leads": list(leads_waiting_for_assignment(leads)),
        "waiting": waiting_rows,
        "waiting_count": waiting.count() if len(waiting_rows) == 8 else len(waiting_rows),
        "consultants": consultants,
        "unread": sum(c.unread for c in consultants),
        "documents": first_documents,
        "documents_count": documents.count(),
    }


def _consultant_home(request) -> dict:
    user = request.user
    office = office_in_view(request).office
    agenda = _agenda(appointment_agenda_for(user, offices=[office], days=1))
    pipeline = lead_pipeline_counts(lead_list_for(user))
    return {
        "office": office,
        "agenda": agenda,
        "appointments_today": _today_count(agenda, [office]),
        "pipeline": [(status, label, pipeline[status]) for status, label in LeadStatus.choices],
        "leads": list(leads_needing_action_for(user)),
        "inbox": _inbox(user),
        "documents_count": documents_pending_for(user).count(),
    }


def _receptionist_home(request) -> dict:
    user = request.user
    office = office_in_view(request).office
    assert office is not None  # a receptionist's own office
    agenda = _agenda(appointment_agenda_for(user, offices=[office], days=1))
    consultants = list(calendar_consultants_for(user).filter(office_id=office.pk))
    today = office_today(office)
    # Quick booking: each consultant's next free slots today (tomorrow once today is over): both days read
    # at once, so the home runs the same queries at any hour.
    days: dict = {today: {}, today + timedelta(days=1): {}}
    for slot in free_slots(consultants=consultants, first=today, last=today + timedelta(days=1)):
        slot["start_at"] = datetime.fromisoformat(slot["start"])
        days[slot["start_at"].astimezone(office.tzinfo).date()].setdefault(slot["consultant_id"], []).append(slot)
    day = today if days[today] else today + timedelta(days=1)
    booking = [{"consultant": consultant, "slots": days[day].get(consultant.pk, [])[:4]} for consultant in consultants]
    return {
        "office": office,
        "agenda": agenda,
        "appointments_today": _today_count(agenda, [office]),
        "booking_day": day,
        "booking": booking,
        "inbox": _inbox(user),
        "sources": LeadSource.choices,
    }


HOMES = {  # each staff role's home: what it reads, and its template
    Role.SUPER_ADMIN: (_office_home, "home_office.html"),
    Role.MANAGER: (_office_home, "home_office.html"),
    Role.CONSULTANT: (_consultant_home, "home_consultant.html"),
    Role.RECEPTIONIST: (_receptionist_home, "home_receptionist.html"),
}
