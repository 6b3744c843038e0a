"""The console's home: what each staff role's day needs first, each item a link to where to act.

Every figure comes from the apps' selectors, scoped like the API; each role's home runs a fixed
number of queries (pinned in core/tests/test_console_home.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import groupby

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from core.console import office_in_view


def home_context(request) -> dict:
    user = request.user
    if not (user.is_active and user.is_staff):
        return {}
    build = {Role.SUPER_ADMIN: _office_home, Role.MANAGER: _office_home, Role.CONSULTANT: _consultant_home,
             Role.RECEPTIONIST: _receptionist_home}[user.role]
    return {"home": build(request), "home_role": user.role}


def _agenda(appointments) -> list[dict]:
    """Appointments grouped by their office's local day, each with its attendee (student or lead)."""
    rows = []
    for appointment in appointments:
        appointment.attendee = appointment.student or appointment.lead
        rows.append(appointment)
    return [{"day": day, "appointments": list(items)}
            for day, items in groupby(rows, key=lambda a: a.start.astimezone(a.office.tzinfo).date())]


def _today_count(agenda: list[dict], offices) -> int:
    from appointments.selectors import office_today

    todays = {office_today(office) for office in offices}
    return sum(len(group["appointments"]) for group in agenda if group["day"] in todays)


def conversation_rows(conversations, user, *, monitor: bool = False) -> list[dict]:
    """Conversations for a list: title for this viewer, last message, how long it waits, and where
    the viewer opens it (their inbox as a participant, else, or on the monitor, the audited monitor)."""
    from messaging.selectors import conversation_title_for

    now, rows = timezone.now(), []
    for conversation in conversations:
        member = any(p.user_id == user.pk for p in conversation.participants.all())
        last = conversation.last_message
        rows.append({
            "conversation": conversation, "title": conversation_title_for(conversation, user), "last_message": last,
            "waiting_since": last.created_at if last else None,
            "waited": now - last.created_at if last else timedelta(0),
            "people": ", ".join(p.user.full_name for p in conversation.participants.all()),
            "waiting": bool(conversation.waiting_for_staff),
            "url": (reverse("admin:messaging_conversation_change", args=[conversation.pk]) if member and not monitor
                    else reverse("admin-monitor-detail", args=[conversation.pk])),
        })
    return rows


def inbox_rows(user, limit: int) -> list[dict]:
    """The user's own conversations (most recent first) with unread counts and "waiting for us"."""
    from messaging.selectors import conversation_list_for, conversation_title_for

    rows = []
    for membership in conversation_list_for(user, archived=False)[:limit]:
        conversation = membership.conversation
        last = conversation.last_message
        rows.append({
            "conversation": conversation, "title": conversation_title_for(conversation, user), "last_message": last,
            "unread": membership.unread_count,
            "waiting": bool(membership.waiting_for_staff),
            "url": reverse("admin:messaging_conversation_change", args=[conversation.pk]),
        })
    return rows


def _inbox(user, limit: int = 8) -> dict:
    from messaging.selectors import unread_total

    return {"rows": inbox_rows(user, limit), "unread": unread_total(user)}


def _office_home(request) -> dict:
    """Managers (their office) and super admins (every office, or the one chosen)."""
    from appointments.selectors import appointment_agenda_for
    from documents.selectors import documents_pending_for
    from leads.selectors import lead_list_for, lead_pipeline_counts, leads_waiting_for_assignment
    from messaging.selectors import conversations_waiting_for_staff, monitorable_conversations, unread_by_consultant
    from offices.selectors import office_list_for

    user = request.user
    office = office_in_view(request)
    every_office = list(office_list_for(user)) if user.role == Role.SUPER_ADMIN else None
    offices = [office] if office is not None else every_office
    # A manager's selectors are their office already (and the unassigned queue of leads); a super
    # admin's narrow to the office chosen.
    chosen = office.pk if office is not None and user.role == Role.SUPER_ADMIN else None
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
        document.owner = document.student or document.lead
    return {
        "office": office, "offices": every_office, "office_query": f"?office={chosen}" if chosen else "",
        "agenda": agenda, "appointments_today": _today_count(agenda, offices),
        "pipeline": [(status, label, pipeline[status]) for status, label in _statuses()],
        "unassigned": pipeline["unassigned"], "unassigned_leads": list(leads_waiting_for_assignment(leads)),
        "waiting": waiting_rows, "waiting_count": waiting.count() if len(waiting_rows) == 8 else len(waiting_rows),
        "consultants": consultants, "unread": sum(c.unread for c in consultants),
        "documents": first_documents, "documents_count": documents.count(),
    }


def _consultant_home(request) -> dict:
    from appointments.selectors import appointment_agenda_for
    from documents.selectors import documents_pending_for
    from leads.selectors import lead_list_for, lead_pipeline_counts, leads_needing_action_for

    user = request.user
    office = office_in_view(request)
    agenda = _agenda(appointment_agenda_for(user, offices=[office], days=1))
    pipeline = lead_pipeline_counts(lead_list_for(user))
    return {
        "office": office, "agenda": agenda, "appointments_today": _today_count(agenda, [office]),
        "pipeline": [(status, label, pipeline[status]) for status, label in _statuses()],
        "leads": list(leads_needing_action_for(user)), "inbox": _inbox(user),
        "documents_count": documents_pending_for(user).count(),
    }


def _receptionist_home(request) -> dict:
    from accounts.selectors import user_list_for
    from appointments.selectors import appointment_agenda_for, office_today
    from appointments.services import office_availability

    user = request.user
    office = office_in_view(request)
    agenda = _agenda(appointment_agenda_for(user, offices=[office], days=1))
    consultants = list(user_list_for(user).filter(role=Role.CONSULTANT, office_id=office.pk, is_active=True)
                       .order_by("first_name", "last_name", "id"))
    today = office_today(office)
    # Quick booking: each consultant's next free slots today (tomorrow once today is over).
    for day in (today, today + timedelta(days=1)):
        free = office_availability(office=office, consultants=consultants, day=day)
        if any(free.values()):
            break
    booking = []
    for consultant in consultants:
        slots = []
        for slot in free.get(consultant.pk, [])[:4]:
            slot["start_at"] = datetime.fromisoformat(slot["start"])
            slots.append(slot)
        booking.append({"consultant": consultant, "slots": slots})
    return {
        "office": office, "agenda": agenda, "appointments_today": _today_count(agenda, [office]),
        "booking_day": day, "booking": booking, "inbox": _inbox(user),
        "sources": _sources(),
    }


def _statuses():
    from leads.models import LeadStatus

    return LeadStatus.choices


def _sources():
    from leads.models import LeadSource

    return LeadSource.choices
