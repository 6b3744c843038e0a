from django.db.models import Q, QuerySet

from accounts.models import Role, User
from core.errors import NotFound
from documents.models import Document, DocumentStatus
from leads.models import Lead
from leads.selectors import linked_student_ids, student_and_lead_for


def document_list_for(user: User) -> QuerySet[Document]:
    """super admin: all; manager: their office; consultant: their leads' and the students those leads
    reach (never another office's: `leads.selectors.linked_student_ids`); student: their own;
    receptionist: none."""
    documents = Document.objects.filter(deleted_at__isnull=True)
    if not user.is_active:
        return documents.none()
    if user.role == Role.SUPER_ADMIN:
        return documents
    if user.role == Role.MANAGER:
        return documents.filter(office=user.office_id)
    if user.role == Role.CONSULTANT:
        return documents.filter(
            Q(lead__assigned_to=user) | Q(student_id__in=linked_student_ids(Lead.objects.filter(assigned_to=user)))
        )
    if user.role == Role.STUDENT:
        return documents.filter(student=user)
    return documents.none()


def document_get_for(user: User, document_id) -> Document:
    try:
        return document_list_for(user).get(pk=int(document_id))
    except (Document.DoesNotExist, TypeError, ValueError):
        raise NotFound("Document not found.") from None


def documents_pending_for(user: User, *, office_id: int | None = None, kind: str | None = None) -> QuerySet[Document]:
    """The review queue: pending documents `user` may review, the longest waiting first."""
    documents = document_list_for(user).filter(status=DocumentStatus.PENDING)
    if office_id is not None:
        documents = documents.filter(office_id=office_id)
    if kind:
        documents = documents.filter(kind=kind)
    return documents.select_related("student", "lead", "office", "uploaded_by").order_by("id")


def document_owner_for(user: User, *, student_id: int | None, lead_id: int | None) -> tuple[User | None, Lead | None]:
    """The student and lead `user` names as a new document's owner (`leads.selectors.student_and_lead_for`);
    a student naming nobody uploads for themself. Whether they may add documents for that owner is
    `document_upload`'s rule."""
    if user.role == Role.STUDENT and student_id is None and lead_id is None:
        student_id = user.pk
    return student_and_lead_for(user, student_id=student_id, lead_id=lead_id)
