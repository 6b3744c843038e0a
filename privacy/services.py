"""A person's data exported or erased, legal holds, retention: every door (REST, commands, tasks) calls these.

The areas (each app's `personal_data.py`, `core.privacy`) say what they hold; this module runs them
in one export or one erasure, decides who may, and writes the audit.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.jobs import send_now
from core.privacy import Erasure, areas, retention_rules
from leads.personal_data import leads_of
from privacy.errors import PrivacyErrorCode
from privacy.models import ExportStatus, PersonalDataExport, PrivacyAction, PrivacyAudit
from privacy.selectors import may_export

logger = logging.getLogger(__name__)

EXPORT_PREFIX = "personal-exports"
LINK_SALT = "privacy.export-link"


def _audit(*, actor: User | None, subject: User, action: str, reason: str = "", **details: object) -> PrivacyAudit:
    return PrivacyAudit.objects.create(actor=actor, subject=subject, action=action, reason=reason, details=details)


# --- export ----------------------------------------------------------------------------------


def export_estimate(subject: User) -> int:
    """Bytes the export would carry, roughly (files, and messages at a few hundred bytes each)."""
    return sum(area.export_bytes(subject) for area in areas() if area.export_bytes is not None)


def _readme(subject: User, written: list[tuple[str, str]], missing: list[str], at: datetime) -> str:
    lines = [
        f"Personal data held about {subject.full_name} (user {subject.pk}), exported {at.isoformat()}.",
        "",
        "Each .json file is one area of the service; times are ISO 8601 in UTC. Files:",
        "",
    ]
    for name, description in written:
        lines += [f"{name}.json", f"    {description}", ""]
    lines += [
        "What the service keeps, for how long and why: ask the consultancy for its data protection notice",
        "(docs/data-protection.md in the service's documentation).",
    ]
    if missing:
        lines += ["", "Files listed above that could not be read from storage when this export was made:"]
        lines += [f"    {path}" for path in missing]
    return "\n".join(lines) + "\n"


def export_write(*, subject: User, out: IO[bytes]) -> list[str]:
    """The ZIP of everything held about `subject`: a JSON file per area, their files, a README.
    Returns the paths of files that storage could not give (listed in the README, never a failure)."""
    at = timezone.now()
    written: list[tuple[str, str]] = []
    missing: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for area in areas():
            part = area.export(subject)
            body = json.dumps(part.data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
            archive.writestr(f"{area.name}.json", body)
            written.append((area.name, area.description))
            for item in part.files:
                info = zipfile.ZipInfo(item.path, date_time=at.timetuple()[:6])
                info.compress_type = zipfile.ZIP_STORED  # documents and images are compressed already
                try:
                    with default_storage.open(item.storage_key, "rb") as source, archive.open(info, "w") as target:
                        shutil.copyfileobj(source, target, 1024 * 1024)
                except (FileNotFoundError, ValueError):
                    missing.append(item.path)
        archive.writestr("README.txt", _readme(subject, written, missing, at))
    return missing


@transaction.atomic
def personal_export_request(*, actor: User, subject: User) -> PersonalDataExport | None:
    """Audited. None: small enough to be built now, in the request (`export_write`). Otherwise the export
    to be built in the background (the one already under way for the same asker, if any)."""
    if not may_export(actor, subject):
        raise Forbidden("Only the person, their office's managers and the super admin export a person's data.")
    if subject.erased_at is not None:
        raise Conflict("This person was erased; nothing is left to export.", code=PrivacyErrorCode.ALREADY_ERASED)
    estimate = export_estimate(subject)
    if estimate <= settings.PERSONAL_EXPORT_INLINE_MAX_BYTES:
        _audit(actor=actor, subject=subject, action=PrivacyAction.EXPORT, mode="inline", estimated_bytes=estimate)
        return None
    under_way = PersonalDataExport.objects.filter(subject=subject, requested_by=actor, status=ExportStatus.PENDING)
    export = under_way.first()
    if export is not None:
        return export
    export = PersonalDataExport.objects.create(subject=subject, requested_by=actor)
    _audit(
        actor=actor,
        subject=subject,
        action=PrivacyAction.EXPORT,
        mode="background",
        export_id=export.pk,
        estimated_bytes=estimate,
    )
    export_id = export.pk
    transaction.on_commit(lambda: _enqueue_build(export_id))
    return export


def _enqueue_build(export_id: int) -> None:
    """To the Celery worker (`core.jobs.send_now`: never raises). With the broker down the row stays
    pending and the sweep builds it (`privacy.tasks.build_pending_exports`, every minute): the
    database is the queue of record."""
    from privacy.tasks import build_personal_export  # noqa: PLC0415 - privacy.tasks imports this module

    if not send_now(build_personal_export, export_id):
        logger.info("personal export %s left for the sweep: the broker is unreachable", export_id)


def personal_export_build(*, export_id: int) -> PersonalDataExport:
    """Build a pending export into storage (the background task's body). Idempotent: an export that is
    already built, or being built by another worker, is left alone."""
    with transaction.atomic():
        export = (
            PersonalDataExport.objects.select_for_update(skip_locked=True)
            .select_related("subject")
            .filter(pk=export_id, status=ExportStatus.PENDING)
            .first()
        )
        if export is None:
            return PersonalDataExport.objects.get(pk=export_id)
        key = ""
        try:
            with tempfile.TemporaryFile() as spool:
                export_write(subject=export.subject, out=spool)
                export.size = spool.tell()
                spool.seek(0)
                key = default_storage.save(f"{EXPORT_PREFIX}/{uuid.uuid4().hex}.zip", File(spool, name="export.zip"))
        except Exception as exc:
            logger.exception("personal export %s failed", export_id)
            if key:
                default_storage.delete(key)
            export.status, export.error = ExportStatus.FAILED, exc.__class__.__name__
            export.save(update_fields=["status", "error"])
            return export
        now = timezone.now()
        export.status, export.file_key, export.ready_at = ExportStatus.READY, key, now
        export.expires_at = now + timedelta(hours=settings.PERSONAL_EXPORT_KEEP_HOURS)
        export.save(update_fields=["status", "file_key", "size", "ready_at", "expires_at"])
    return export


def personal_exports_build_pending() -> int:
    """Build every export still pending (the sweep behind a broker outage)."""
    pending = PersonalDataExport.objects.filter(status=ExportStatus.PENDING).order_by("id")
    ids = list(pending.values_list("id", flat=True))
    for export_id in ids:
        personal_export_build(export_id=export_id)
    return len(ids)


def export_link(export: PersonalDataExport, *, actor: User) -> str:
    """A download link for `actor`, valid PERSONAL_EXPORT_LINK_MINUTES: it works without a bearer token
    (a browser follows it), so it is short-lived and names who it was made for."""
    token = signing.dumps({"e": export.pk, "a": actor.pk}, salt=LINK_SALT, compress=True)
    path = reverse("privacy-export-download", kwargs={"user_id": export.subject_id, "export_id": export.pk})
    return f"{path}?token={token}"


def export_from_link(*, user_id: int, export_id: int, token: str) -> PersonalDataExport:
    """The export a download link names, if it is still valid and its holder may still export; audited."""
    try:
        value = signing.loads(token, salt=LINK_SALT, max_age=settings.PERSONAL_EXPORT_LINK_MINUTES * 60)
    except signing.SignatureExpired:
        raise Forbidden(
            "This download link has expired; ask the export's status for a new one.",
            code=PrivacyErrorCode.EXPORT_LINK_EXPIRED,
        ) from None
    except signing.BadSignature:
        raise NotFound("Export not found.") from None
    if not isinstance(value, dict) or value.get("e") != export_id:
        raise NotFound("Export not found.")
    export = PersonalDataExport.objects.select_related("subject").filter(pk=export_id, subject_id=user_id).first()
    actor = User.objects.filter(pk=int(value.get("a") or 0)).first()
    if export is None or actor is None or not may_export(actor, export.subject):
        raise NotFound("Export not found.")
    if export.status != ExportStatus.READY or (export.expires_at and export.expires_at <= timezone.now()):
        raise Conflict(
            f"This export is {export.get_status_display().lower()}; it cannot be downloaded.",
            code=PrivacyErrorCode.EXPORT_NOT_READY,
            details={"status": export.status},
        )
    _audit(actor=actor, subject=export.subject, action=PrivacyAction.EXPORT_DOWNLOAD, export_id=export.pk)
    return export


# --- erasure ---------------------------------------------------------------------------------


def _identifiers(person: User) -> tuple[str, ...]:
    """How the person may be named in text others wrote: their name, email and phone, and those of their leads."""
    found = {person.email, person.phone}
    if person.first_name and person.last_name:
        found.add(f"{person.first_name} {person.last_name}")
    for first, last, email, phone in leads_of(person).values_list("first_name", "last_name", "email", "phone"):
        found |= {email, phone, f"{first} {last}" if first and last else ""}
    return tuple(sorted(i.strip() for i in found if i and i.strip()))


def _delete_files(keys: Iterable[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except OSError:  # logged; the row no longer points at it
            logger.error("erased file could not be deleted", extra={"key": key})


@transaction.atomic
def person_erase(*, actor: User, person: User, reason: str) -> PrivacyAudit:
    """Remove what identifies `person` in every area, close their sessions, keep the audit and the numbers.
    Final. Refused for yourself, the last super admin and anyone under legal hold."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why this person is erased.", details={"reason": ["required"]})
    # Every erasure locks the super admins in one order, so two of them erasing each other at once
    # cannot leave the company without one: the second sees the first's result.
    super_admins = list(User.objects.select_for_update().filter(role=Role.SUPER_ADMIN).order_by("pk"))
    actor = User.objects.get(pk=actor.pk)
    if actor.role != Role.SUPER_ADMIN or not actor.is_active or actor.erased_at is not None:
        raise Forbidden("Only a super admin erases a person.")
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.pk == actor.pk:
        raise Forbidden("You cannot erase yourself; ask another super admin.", code=PrivacyErrorCode.CANNOT_ERASE_SELF)
    if person.erased_at is not None:
        raise Conflict("This person was erased already.", code=PrivacyErrorCode.ALREADY_ERASED)
    if person.legal_hold:
        raise Conflict(
            "This person is under legal hold: their data must be kept. Lift the hold first.",
            code=PrivacyErrorCode.LEGAL_HOLD,
        )
    others = [u for u in super_admins if u.pk != person.pk and u.is_active and u.erased_at is None]
    if person.role == Role.SUPER_ADMIN and not others:
        raise Conflict(
            "This is the last super admin; erasing them would leave nobody in charge.",
            code=PrivacyErrorCode.LAST_SUPER_ADMIN,
        )
    erasure = Erasure(
        person=person, actor=actor, at=timezone.now(), identifiers=_identifiers(person), email=person.email
    )
    for area in areas():
        area.erase(erasure)
    audit = _audit(actor=actor, subject=person, action=PrivacyAction.ERASE, reason=reason, removed=erasure.counts)
    keys = list(erasure.files_to_delete)
    transaction.on_commit(lambda: _delete_files(keys))
    return audit


@transaction.atomic
def legal_hold_set(*, actor: User, person: User, legal_hold: bool, reason: str) -> User:
    if actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only a super admin sets or lifts a legal hold.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why.", details={"reason": ["required"]})
    person = User.objects.select_for_update().get(pk=person.pk)
    if person.erased_at is not None:
        raise Conflict("This person was erased already.", code=PrivacyErrorCode.ALREADY_ERASED)
    if person.legal_hold != legal_hold:
        person.legal_hold = legal_hold
        person.save(update_fields=["legal_hold", "updated_at"])
        action = PrivacyAction.LEGAL_HOLD_ON if legal_hold else PrivacyAction.LEGAL_HOLD_OFF
        _audit(actor=actor, subject=person, action=action, reason=reason)
    return person


# --- retention -------------------------------------------------------------------------------


def retention_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Every area's retention rule, each in its own transaction; returns how many records each touched."""
    now = now or timezone.now()
    results = {}
    for rule in retention_rules():
        with transaction.atomic():
            results[rule.name] = rule.apply(now)
    logger.info("retention applied", extra={"results": results})
    return results
