"""The privacy app's own records about a person: exports of their data and the audit (core.privacy)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from accounts.models import User
from core.privacy import Area, AreaExport, Erasure, RetentionRule, register_area, register_retention
from privacy.models import ExportStatus, PersonalDataExport, PrivacyAudit


def export(person: User) -> AreaExport:
    """What was done with the person's data (exports, legal holds), not why: a hold's reason may be
    confidential."""
    return AreaExport(
        [
            {"action": entry.action, "at": entry.created_at}
            for entry in PrivacyAudit.objects.filter(subject=person).order_by("id")
        ]
    )


def erase(erasure: Erasure) -> None:
    exports = PersonalDataExport.objects.filter(subject=erasure.person)
    for key in exports.exclude(file_key="").values_list("file_key", flat=True):
        erasure.delete_file(key)
    erasure.count("prepared exports deleted", exports.delete()[0])


register_area(
    Area(
        name="privacy",
        description="When your data was exported, and whether a legal hold was put on it or lifted.",
        export=export,
        erase=erase,
        covers={"privacy.PersonalDataExport.subject": "prepared exports of the person's data: deleted on erasure"},
        kept={
            "privacy.PersonalDataExport.requested_by": "an export someone asked for (it expires within hours)",
            "privacy.PrivacyAudit.actor": "the privacy audit: who exported or erased whose data, when and why",
            "privacy.PrivacyAudit.subject": "the privacy audit, kept after erasure (the subject pseudonymised) "
            "for AUDIT_RETENTION_DAYS: proof that a request was met",
        },
    )
)


def _delete_files(keys: list[str]) -> None:
    for key in keys:
        default_storage.delete(key)


def _expired_exports(now: datetime) -> int:
    """Prepared exports past PERSONAL_EXPORT_KEEP_HOURS: file deleted, row marked expired."""
    keep = timedelta(hours=settings.PERSONAL_EXPORT_KEEP_HOURS)
    stale = PersonalDataExport.objects.exclude(status=ExportStatus.EXPIRED).filter(
        Q(expires_at__lt=now) | Q(expires_at__isnull=True, created_at__lt=now - keep)
    )
    keys = list(stale.exclude(file_key="").values_list("file_key", flat=True))
    count = stale.update(status=ExportStatus.EXPIRED, file_key="")
    transaction.on_commit(partial(_delete_files, keys))
    return count


def _privacy_audit(now: datetime) -> int:
    days = settings.AUDIT_RETENTION_DAYS
    if days <= 0:
        return 0
    return PrivacyAudit.objects.filter(created_at__lt=now - timedelta(days=days)).delete()[0]


register_retention(
    RetentionRule(
        name="prepared exports",
        setting="PERSONAL_EXPORT_KEEP_HOURS",
        description="A person's data export built in the background is deleted this many hours after it is ready.",
        apply=_expired_exports,
    )
)
register_retention(
    RetentionRule(
        name="privacy audit",
        setting="AUDIT_RETENTION_DAYS",
        description="Entries of the privacy audit (exports, erasures, legal holds) older than this many days are "
        "deleted. 0 keeps them.",
        apply=_privacy_audit,
    )
)
