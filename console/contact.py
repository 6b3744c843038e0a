"""The contact panel: who a conversation is with, beside it (the inbox, the monitor; issue 22's student
workspace includes the same template). Profile, next appointment, documents waiting, the latest
applications, and for whoever may assign the lead, a transfer to another consultant of its office (through
`leads.services.lead_assign`: the student's conversation follows the lead).

Everything comes through the apps' selectors with the viewer's scope: what they may not see is not shown.
`contact_card(viewer, student=..., lead=...)` builds the context of templates/admin/console/_contact.html
in a fixed number of queries."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import consultants_for
from applications.selectors import application_list_for
from appointments.models import AppointmentStatus
from appointments.selectors import appointment_list_for
from core.errors import NotFound
from core.phones import phone_display
from documents.selectors import document_list_for
from leads.models import OPEN_STATUSES, Lead
from leads.rules import lead_may_assign
from leads.selectors import lead_list_for
from messaging.models import Conversation
from messaging.selectors import conversation_detail, conversation_get_for_monitoring, membership_get


def contact_card(viewer: User, *, student: User | None = None, lead: Lead | None = None) -> dict | None:
    """The panel's content for this student and/or lead, as `viewer` may see it; None with neither."""
    if student is None and lead is None:
        return None
    if lead is None and student is not None:
        lead = lead_list_for(viewer).filter(student=student).order_by("-created_at", "-id").first()
    elif lead is not None:
        lead = lead_list_for(viewer).filter(pk=lead.pk).first()  # hidden from this viewer: name only
    person = student or (lead.student if lead else None)
    owner = Q(student=person) if person is not None else Q(pk__in=[])
    if lead is not None:
        owner |= Q(lead=lead)
    upcoming = (
        appointment_list_for(viewer)
        .filter(owner, status=AppointmentStatus.SCHEDULED, end__gt=timezone.now())
        .order_by("start")
        .first()
    )
    waiting = list(document_list_for(viewer).filter(owner, status="pending").order_by("id")[:5])
    applications = (
        list(application_list_for(viewer).prefetch_related(None).filter(student=person).order_by("-updated_at")[:5])
        if person is not None
        else []
    )
    office = lead.office if lead is not None else (person.office if person is not None else None)
    region = office.country if office is not None else ""
    may_transfer = lead is not None and lead_may_assign(viewer, lead) and lead.status in OPEN_STATUSES
    return {
        "name": (person or lead).full_name,  # type: ignore[union-attr]  # (one of them is given)
        "email": (lead.email if lead else "") or (person.email if person else ""),
        "phone": phone_display((lead.phone if lead else "") or (person.phone if person else ""), region=region),
        "student": person,
        "lead": lead,
        "office": office,
        "next_appointment": upcoming,
        "documents": waiting,
        "applications": applications,  # the latest five the viewer may see (_contact_applications.html)
        "transfer_to": (
            [c for c in consultants_for(viewer, office_id=lead.office_id) if c.pk != lead.assigned_to_id]
            if may_transfer and lead is not None
            else None
        ),
    }


def conversation_contact(viewer: User, conversation: Conversation) -> dict | None:
    """The contact of a conversation: its lead, or the student in it."""
    student = next((p.user for p in conversation.participants.all() if p.user.role == Role.STUDENT), None)
    return contact_card(viewer, student=student, lead=conversation.lead)


def contact_panel(request, conversation_id: int):
    """The panel as a fragment for a conversation the viewer is in or may monitor (404 otherwise)."""
    viewer = request.user
    try:
        membership_get(viewer, conversation_id)
    except NotFound:
        try:  # (a monitor sees who it is with; the messages stay behind the audited monitor)
            conversation_get_for_monitoring(viewer, conversation_id)
        except NotFound:
            raise Http404("Conversation not found.") from None
    conversation = conversation_detail(conversation_id)
    return TemplateResponse(
        request,
        "admin/console/_contact.html",
        {"contact": conversation_contact(viewer, conversation), "next": request.GET.get("next", "")},
    )
