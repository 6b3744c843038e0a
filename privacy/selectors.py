"""Whose data a user may export or erase. Hidden means 404 (`accounts.selectors.user_get_for`), visible but
not allowed 403."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Role, User
from accounts.selectors import user_get_for
from core.db import BIGINT_MAX
from core.errors import Forbidden, NotFound
from privacy.models import PersonalDataExport, PrivacyAudit


def may_export(actor: User, subject: User) -> bool:
    """The person themself, a manager of their office, the super admin."""
    if not actor.is_active:
        return False
    if actor.pk == subject.pk or actor.role == Role.SUPER_ADMIN:
        return True
    return actor.role == Role.MANAGER and subject.office_id is not None and subject.office_id == actor.office_id


def export_subject_get_for(actor: User, user_id: object) -> User:
    subject = user_get_for(actor, user_id)
    if not may_export(actor, subject):
        raise Forbidden("Only the person, their office's managers and the super admin export a person's data.")
    return subject


def erase_subject_get_for(actor: User, user_id: object) -> User:
    subject = user_get_for(actor, user_id)
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin erases a person.")
    return subject


def legal_hold_subject_get_for(actor: User, user_id: object) -> User:
    subject = user_get_for(actor, user_id)
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin sets or reads a legal hold.")
    return subject


def export_get_for(actor: User, user_id: object, export_id: object) -> PersonalDataExport:
    """An export of `user_id`'s data that `actor` asked for (the super admin sees every one)."""
    subject = export_subject_get_for(actor, user_id)
    exports = PersonalDataExport.objects.filter(subject=subject)
    if actor.role != Role.SUPER_ADMIN:
        exports = exports.filter(requested_by=actor)
    try:
        pk = int(str(export_id))
        if not 0 < pk <= BIGINT_MAX:
            raise ValueError(pk)
        return exports.get(pk=pk)
    except (PersonalDataExport.DoesNotExist, ValueError):
        raise NotFound("Export not found.") from None


def privacy_audit_for(user: User) -> QuerySet[PrivacyAudit]:
    """The privacy audit: the super admin's only."""
    entries = PrivacyAudit.objects.select_related("actor", "subject")
    return entries if user.is_active and user.role == Role.SUPER_ADMIN else entries.none()
