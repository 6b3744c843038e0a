"""A student ready to apply (an office, a consultant, a profile) and approved documents for a checklist."""

from django.core.files.uploadedfile import SimpleUploadedFile

from documents.models import Document, DocumentStatus

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def approved_document(student, kind: str, *, reviewer, status: str = DocumentStatus.APPROVED) -> Document:
    """A document of the student's, reviewed (by the ORM: the review service is documents' own, tested there)."""
    return Document.objects.create(
        kind=kind,
        student=student,
        office_id=student.office_id,
        file_key=f"documents/test-{kind}.pdf",
        file_name=f"{kind}.pdf",
        mime_type="application/pdf",
        size=len(PDF),
        status=status,
        reviewed_by=reviewer if status != DocumentStatus.PENDING else None,
        uploaded_by=student,
    )


def pdf(name: str = "file.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def complete_checklist(student, *, reviewer) -> list[Document]:
    """Approved documents for every item of the default template."""
    kinds = [
        "passport",
        "transcript",
        "test_score",
        "statement_of_purpose",
        "recommendation",
        "recommendation",
        "cv",
        "financial",
    ]
    return [approved_document(student, kind, reviewer=reviewer) for kind in kinds]
