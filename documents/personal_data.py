"""A person's documents, with their files, in their export and erasure; documents of anonymised leads
(core.privacy)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet, Sum

from accounts.models import User
from core.privacy import (
    REMOVED,
    Area,
    AreaExport,
    Erasure,
    ExportFile,
    RetentionRule,
    register_area,
    register_retention,
)
from core.uploads import sanitize_file_name
from documents.models import Document
from leads.models import Lead
from leads.personal_data import leads_of


def documents_of(person: User) -> QuerySet[Document]:
    return Document.objects.filter(Q(student=person) | Q(lead__in=leads_of(person)))


def export(person: User) -> AreaExport:
    documents = documents_of(person).filter(deleted_at__isnull=True).order_by("id")
    rows, files = [], []
    for document in documents:
        path = f"documents/{document.pk}-{sanitize_file_name(document.file_name)}"
        rows.append(
            {
                "id": document.pk,
                "kind": document.kind,
                "file": path,
                "file_name": document.file_name,
                "mime_type": document.mime_type,
                "size": document.size,
                "status": document.status,
                "review_note": document.review_note,
                "reviewed_at": document.reviewed_at,
                "uploaded_at": document.created_at,
            }
        )
        files.append(ExportFile(path=path, storage_key=document.file_key))
    return AreaExport(rows, files)


def export_bytes(person: User) -> int:
    return documents_of(person).filter(deleted_at__isnull=True).aggregate(total=Sum("size"))["total"] or 0


def _remove(documents: QuerySet[Document], *, at: datetime, actor: User | None, erasure: Erasure | None = None) -> int:
    """Files deleted (after commit), names and review notes gone; kind, status and size stay for the numbers."""
    removed = 0
    for document in documents.exclude(file_name=REMOVED).only("id", "file_key", "deleted_at"):
        if erasure is not None:
            erasure.delete_file(document.file_key)
        else:
            key = document.file_key
            transaction.on_commit(partial(default_storage.delete, key))
        removed += 1
    documents.exclude(file_name=REMOVED).filter(deleted_at__isnull=True).update(deleted_at=at, deleted_by=actor)
    documents.exclude(file_name=REMOVED).update(file_name=REMOVED, file_key="", review_note="")
    return removed


def erase(erasure: Erasure) -> None:
    erasure.count(
        "documents and files removed",
        _remove(documents_of(erasure.person), at=erasure.at, actor=erasure.actor, erasure=erasure),
    )


register_area(
    Area(
        name="documents",
        description=(
            "Your documents (passport, transcripts, test scores, financial evidence, ...) with the files "
            "themselves in the documents/ folder, and how each was reviewed."
        ),
        export=export,
        erase=erase,
        export_bytes=export_bytes,
        covers={
            "documents.Document.student": "the person's documents: exported with their files; on erasure the files "
            "are deleted and the names and review notes removed (kind, status and size stay for the numbers)",
        },
        kept={
            "documents.Document.uploaded_by": "who uploaded: a staff action (a student's own uploads are covered "
            "as the owner's documents)",
            "documents.Document.reviewed_by": "who reviewed: a staff action on someone else's document",
            "documents.Document.deleted_by": "who deleted: the audit record of a deletion",
        },
    )
)


def _documents_of_anonymised_leads(now: datetime) -> int:
    anonymised = Lead.objects.filter(anonymised_at__isnull=False)
    return _remove(Document.objects.filter(lead__in=anonymised), at=now, actor=None)


register_retention(
    RetentionRule(
        name="documents of anonymised leads",
        setting="LEAD_LOST_RETENTION_DAYS",
        description="When a lost lead is anonymised, its documents' files are deleted and their names removed.",
        apply=_documents_of_anonymised_leads,
    )
)
