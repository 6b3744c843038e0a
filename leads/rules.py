"""Who may act on leads, by role and by the lead's own rule: the services check these, and the console's
buttons and admin permissions read them (a button shown is an action allowed)."""

from __future__ import annotations

from accounts.models import MANAGING_ROLES, Role, User
from leads.models import Lead

# Who may act on leads, by role; each also within the lead's own rule (`lead_may_change`, `lead_may_assign`).
# The console's buttons and admin permissions read these too.
LEAD_CREATORS = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.RECEPTIONIST})
LEAD_CHANGERS = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.CONSULTANT})
LEAD_ASSIGNERS = MANAGING_ROLES  # assign and delete


def lead_may_manage(actor: User, lead: Lead) -> bool:
    """Change a lead: super admin; a manager of its office (or of the unassigned queue); its consultant."""
    if actor.role == Role.SUPER_ADMIN:
        return True
    if actor.role == Role.MANAGER:
        return lead.office_id in (None, actor.office_id)
    return actor.role == Role.CONSULTANT and lead.assigned_to_id == actor.pk


def lead_may_change(actor: User, lead: Lead) -> bool:
    """Whether `actor` may change this lead's status, convert or escalate it (what the console offers)."""
    return lead_may_manage(actor, lead)


def lead_may_assign(actor: User, lead: Lead) -> bool:
    """Assign (or delete) this lead: a super admin; a manager of its office or of the unassigned queue."""
    return actor.role in LEAD_ASSIGNERS and lead_may_manage(actor, lead)


def lead_may_see(actor: User, lead: Lead) -> bool:
    """The selector's rule for one lead already in hand (no query): who may read it and add notes."""
    if actor.role in (Role.MANAGER, Role.RECEPTIONIST) and lead.office_id == actor.office_id:
        return True
    return lead_may_manage(actor, lead)
