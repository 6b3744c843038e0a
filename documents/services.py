from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.selectors import leads_reaching_q
from core.errors import Forbidden, ValidationFailed
from core.uploads import check_upload, store_upload
from documents.errors import DocumentErrorCode
from documents.models import Document, DocumentKind, DocumentStatus
from leads.models import ActivityKind, Lead
from leads.selectors import lead_list_for
from leads.services import activity_record
from notifications.services import notification_create

# Who reviews and deletes documents (each within `_may_handle`); the console's review page reads it too.
DOCUMENT_REVIEWERS = frozenset({Role.SUPER_ADMIN, Role.MANAGER, Role.CONSULTANT})


def _may_handle(actor: User, *, student: User | None, lead: Lead | None) -> bool:
    """Upload for / review documents of this owner."""
    if actor.role == Role.STUDENT:
        return student is not None and student.pk == actor.pk
    if actor.role == Role.SUPER_ADMIN:
        return True
    if lead is not None:
        return lead_list_for(actor).filter(pk=lead.pk).exists() and actor.role in (Role.MANAGER, Role.CONSULTANT)
    if student is None:  # (a document belongs to a student or a lead)
        return False
    if actor.role == Role.MANAGER:
        return student.office_id == actor.office_id
    if actor.role == Role.CONSULTANT:  # a student one of their leads reaches
        return Lead.objects.filter(leads_reaching_q(student), assigned_to=actor).exists()
    return False


def _timeline(document: Document, actor: User, text: str) -> None:
    # A student's document lands on the timeline of their latest lead that reaches them (never another office's).
    student = document.student
    lead = document.lead or (
        Lead.objects.filter(leads_reaching_q(student)).order_by("-id").first() if student is not None else None
    )
    activity_record(
        lead=lead,
        student=None if lead else document.student,
        actor=actor,
        kind=ActivityKind.DOCUMENT,
        text=text,
        data={"document_id": document.pk, "kind": document.kind},
    )


def document_upload(*, actor: User, file, kind: str, student: User | None = None, lead: Lead | None = None) -> Document:
    if kind not in DocumentKind.values:
        raise ValidationFailed("Unknown document kind.", code=DocumentErrorCode.INVALID_KIND)
    if (student is None) == (lead is None):
        raise ValidationFailed("A document belongs to a student or a lead.", code=DocumentErrorCode.OWNER_REQUIRED)
    if student is not None and student.role != Role.STUDENT:
        raise ValidationFailed("Unknown student.", code=DocumentErrorCode.UNKNOWN_STUDENT)
    if not _may_handle(actor, student=student, lead=lead):
        raise Forbidden("You cannot add documents for this person.")
    checked = check_upload(file)
    stored = store_upload(checked, prefix="documents")
    try:
        with transaction.atomic():
            document = Document.objects.create(
                kind=kind,
                student=student,
                lead=lead,
                office_id=(lead.office_id if lead else student.office_id if student else None),
                file_key=stored.key,
                file_name=checked.name,
                mime_type=checked.mime_type,
                size=checked.size,
                uploaded_by=actor,
            )
            _timeline(document, actor, f"{document.get_kind_display()} uploaded: {document.file_name}")
    except BaseException:
        for key in (stored.key, stored.thumbnail_key):
            if key:
                default_storage.delete(key)
        raise
    if stored.thumbnail_key:
        default_storage.delete(stored.thumbnail_key)  # documents are downloaded, never previewed inline
    return document


@transaction.atomic
def document_review(*, actor: User, document: Document, status: str, note: str = "") -> Document:
    if actor.role not in DOCUMENT_REVIEWERS or not _may_handle(actor, student=document.student, lead=document.lead):
        raise Forbidden("You cannot review this document.")
    if status not in (DocumentStatus.APPROVED, DocumentStatus.REJECTED):
        raise ValidationFailed("status must be approved or rejected.", code=DocumentErrorCode.INVALID_STATUS)
    if status == DocumentStatus.REJECTED and not note.strip():
        raise ValidationFailed("Say why the document is rejected.", code=DocumentErrorCode.NOTE_REQUIRED)
    document = Document.objects.select_for_update().get(pk=document.pk)
    document.status, document.review_note = status, note.strip()
    document.reviewed_by, document.reviewed_at = actor, timezone.now()
    document.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    _timeline(
        document,
        actor,
        f"{document.get_kind_display()} {status}" + (f": {document.review_note}" if document.review_note else ""),
    )
    owner = document.student or (document.lead.linked_student if document.lead else None)
    if owner is not None:
        notification_create(
            recipient=owner,
            kind="document_reviewed",
            title=f"Your {document.get_kind_display().lower()} was {status}",
            body=document.review_note,
            data={"document_id": document.pk, "status": status},
        )
    return document


@transaction.atomic
def document_delete(*, actor: User, document: Document) -> None:
    own_pending = (
        actor.role == Role.STUDENT and document.student_id == actor.pk and document.status == DocumentStatus.PENDING
    )
    if not own_pending and not (
        actor.role in DOCUMENT_REVIEWERS and _may_handle(actor, student=document.student, lead=document.lead)
    ):
        raise Forbidden("You cannot delete this document.")
    document.deleted_at, document.deleted_by = timezone.now(), actor
    document.save(update_fields=["deleted_at", "deleted_by"])
    _timeline(document, actor, f"{document.get_kind_display()} deleted: {document.file_name}")
    key = document.file_key
    transaction.on_commit(lambda: default_storage.delete(key))


def documents_join_office(*, student: User) -> int:
    """A student's documents uploaded before they had an office (a website signup) join it when they get
    one (conversion), so the office's managers find them in the review queue."""
    if student.office_id is None:
        return 0
    return Document.objects.filter(student=student, office__isnull=True).update(office_id=student.office_id)
