"""The duplicate check of leads: one lead per person in an office, unless a duplicate is confirmed."""

from __future__ import annotations

from django.db import connection

from accounts.emails import canonical_email
from accounts.models import User
from core.errors import Conflict
from leads.errors import LeadErrorCode
from leads.rules import lead_may_see
from leads.selectors import lead_duplicates

# First key of the transaction-scoped advisory lock that serialises duplicate checks per office.
DUPLICATE_LOCK_NAMESPACE = 0x1EAD


def duplicates_check(*, actor: User, office_id, email, phone, exclude_pk=None, confirmed: bool) -> None:
    if confirmed or not (email or phone):
        return
    # Two receptionists typing in the same walk-in (or two runs of one import) must not both pass the
    # check: the lock holds until this transaction commits, so the second sees the first's lead.
    # (No unique constraint: a confirmed duplicate is allowed.)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DUPLICATE_LOCK_NAMESPACE, office_id or 0])
    existing = lead_duplicates(office_id=office_id, email=email, phone=phone, exclude_pk=exclude_pk).first()
    if existing is not None:
        field = "email" if email and existing.email == canonical_email(email) else "phone"
        # The office keeps one lead per person, so the clash is reported to anyone who edits there; which
        # lead it is (id, name) only to someone who may see that lead (a consultant sees their own).
        details = (
            {"lead_id": existing.id, "field": field, "name": existing.full_name}
            if lead_may_see(actor, existing)
            else {"field": field}
        )
        raise Conflict(
            f"A lead with this {field} already exists in this office.",
            code=LeadErrorCode.DUPLICATE_LEAD,
            details=details,
        )
