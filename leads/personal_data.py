"""A person's leads and timeline in their export and erasure; lost leads' retention (core.privacy)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.emails import canonical_email
from accounts.models import User
from core.privacy import REMOVED, Area, AreaExport, Erasure, RetentionRule, register_area, register_retention
from leads.models import Activity, Lead, LeadStatus


def leads_of(person: User) -> QuerySet[Lead]:
    """The person's leads: linked to their account, or carrying their email (a lead not yet linked is
    still them). Used by the areas above (appointments, documents) for what hangs off those leads."""
    mine = Q(student=person)
    if person.email:
        mine |= Q(email=canonical_email(person.email))  # exactly: a look-alike address is someone else's
    return Lead.objects.filter(mine)


def _activity(activity: Activity) -> dict:
    return {
        "kind": activity.kind,
        "text": activity.text,
        "data": activity.data,
        "by": activity.actor.full_name if activity.actor else None,
        "created_at": activity.created_at,
    }


def export(person: User) -> AreaExport:
    leads = leads_of(person).select_related("office", "assigned_to").order_by("id")
    timeline = Activity.objects.select_related("actor").order_by("created_at", "id")
    return AreaExport(
        {
            "leads": [
                {
                    "id": lead.pk,
                    "first_name": lead.first_name,
                    "last_name": lead.last_name,
                    "email": lead.email,
                    "phone": lead.phone,
                    "source": lead.source,
                    "status": lead.status,
                    "lost_reason": lead.lost_reason,
                    "office": lead.office.name if lead.office else None,
                    "consultant": lead.assigned_to.full_name if lead.assigned_to else None,
                    "created_at": lead.created_at,
                    "converted_at": lead.converted_at,
                    "timeline": [_activity(a) for a in timeline.filter(lead=lead)],
                }
                for lead in leads
            ],
            "timeline": [_activity(a) for a in timeline.filter(student=person, lead__isnull=True)],
        }
    )


def lead_anonymise(*, leads: QuerySet[Lead], at: datetime) -> int:
    """Names, email and phone of these leads removed, and their timeline's text; the rows stay (status,
    source, office, dates: the report numbers)."""
    ids = list(leads.filter(anonymised_at__isnull=True).values_list("id", flat=True))
    Activity.objects.filter(lead_id__in=ids).update(text="")
    return Lead.objects.filter(id__in=ids).update(
        first_name=REMOVED, last_name="", email="", phone="", anonymised_at=at, updated_at=at
    )


def erase(erasure: Erasure) -> None:
    person: User = erasure.person
    erasure.count("leads anonymised", lead_anonymise(leads=leads_of(person), at=erasure.at))
    erasure.count("timeline entries cleared", Activity.objects.filter(student=person).exclude(text="").update(text=""))
    pattern = erasure.pattern()
    if pattern is not None:  # the person named in someone else's timeline ("Assigned to Amara Okafor")
        mentions = Activity.objects.filter(text__iregex=pattern.pattern)
        for activity in mentions.only("id", "text"):
            activity.text = erasure.scrub(activity.text)
            activity.save(update_fields=["text"])
            erasure.count("timeline mentions removed", 1)


register_area(
    Area(
        name="leads",
        description=(
            "Your enquiries as a prospective student (the leads linked to your account or carrying your email): "
            "contact details, source, where they stand in the pipeline, your consultant, and their timeline "
            "(status changes, assignments, notes), plus timeline entries about you as a student."
        ),
        export=export,
        erase=erase,
        covers={
            "leads.Lead.student": "the person's own leads: exported; on erasure names, email and phone removed "
            "(the row stays for the report numbers)",
            "leads.Activity.student": "timeline entries about the person: exported; text cleared on erasure",
        },
        kept={
            "leads.Lead.assigned_to": "a consultant's assignment: a record of their work on someone else's lead",
            "leads.Lead.created_by": "who entered a lead: a record of staff work on someone else's data",
            "leads.Activity.actor": "who did something on a timeline: a staff action on someone else's record",
            "leads.LeadRoutingRule.consultant": "the consultant a routing rule hands leads to: office setup",
            "leads.LeadRoutingRule_round_robin.user": "a consultant in a routing rule's rotation: office setup",
            "leads.LeadRoutingRule.round_robin": "the consultants of a routing rule's rotation: office setup",
            "leads.LeadRoutingRule.last_assigned": "where a routing rule's rotation stands: office setup",
            "leads.RoutingCursor.last_assigned": "where an office's fallback rotation stands: office setup",
        },
    )
)


def _lost_leads(now: datetime) -> int:
    days = settings.LEAD_LOST_RETENTION_DAYS
    if days <= 0:
        return 0
    stale = Lead.objects.filter(status=LeadStatus.LOST, updated_at__lt=now - timedelta(days=days))
    return lead_anonymise(leads=stale, at=now)


register_retention(
    RetentionRule(
        name="lost leads",
        setting="LEAD_LOST_RETENTION_DAYS",
        description="A lead lost (and not touched since) for this many days is anonymised: names, email, phone "
        "and timeline text removed, its documents' files deleted; the row stays for the report numbers. "
        "0 keeps lost leads.",
        apply=_lost_leads,
    )
)
