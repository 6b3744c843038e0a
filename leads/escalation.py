"""A lead escalated: the conversation between the office's manager and the lead's student."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Role, User
from core.errors import Forbidden, ValidationFailed
from leads.errors import LeadErrorCode
from leads.models import ActivityKind, Lead
from leads.rules import lead_may_manage
from leads.services import activity_record
from messaging.services import conversation_ensure_direct


@transaction.atomic
def lead_escalate(*, actor: User, lead: Lead, note: str = ""):
    """Opens (or reuses) the conversation between the office's manager and the lead."""
    if not lead_may_manage(actor, lead):
        raise Forbidden("You cannot escalate this lead.")
    student = lead.linked_student
    if student is None:
        raise ValidationFailed("The lead has no account to talk to yet.", code=LeadErrorCode.NO_ACCOUNT)
    manager: User | None
    if actor.role == Role.MANAGER:
        # A manager escalating takes the conversation themself (this also covers website signups
        # still in the unassigned queue, which have no office to look a manager up in).
        manager = actor
    else:
        manager = (
            User.objects.filter(role=Role.MANAGER, office_id=lead.office_id, is_active=True).order_by("id").first()
            if lead.office_id is not None
            else None  # an unassigned website signup: no office, no manager to look up
        )
    if manager is None:
        raise ValidationFailed("This office has no manager.", code=LeadErrorCode.NO_MANAGER)
    conversation = conversation_ensure_direct(
        user_a=manager, user_b=student, actor=actor, office=lead.office, lead=lead
    )
    activity_record(
        lead=lead,
        actor=actor,
        kind=ActivityKind.ESCALATED,
        text=note.strip() or f"Escalated to {manager.full_name}",
        data={"manager_id": manager.pk, "conversation_id": conversation.pk},
    )
    return conversation
