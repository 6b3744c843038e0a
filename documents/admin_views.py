"""The console's document review queue: pending documents with an inline preview, download, and
approve / reject with a note through `documents.services.document_review`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.clickjacking import xframe_options_sameorigin

from core.errors import ApplicationError, NotFound
from core.uploads import INLINE_TYPES, file_response
from documents import selectors, services
from documents.models import DocumentKind
from offices.console import office_in_view

PAGE_SIZE = 20


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def review(request):
    user = request.user
    if request.method == "POST":
        return _decide(request)
    view = office_in_view(request)
    kind = request.GET.get("kind") if request.GET.get("kind") in DocumentKind.values else None
    pending = selectors.documents_pending_for(user, office_id=view.narrowed_id, kind=kind)
    after = _int(request.GET.get("after")) or 0
    page = list(pending.filter(id__gt=after)[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    for document in page:
        document.owner = document.student or document.lead
        document.preview = (
            "image"
            if document.mime_type.startswith("image/")
            else ("pdf" if document.mime_type in INLINE_TYPES else None)
        )
    query = request.GET.copy()
    query["after"] = page[-1].pk if page else 0
    return TemplateResponse(
        request,
        "admin/documents/review.html",
        {
            **admin.site.each_context(request),
            "title": "Documents to review",
            "documents": page,
            "total": pending.count(),
            "more_query": query.urlencode() if more else None,
            "office": view.office,
            "offices": view.switcher(),
            "kinds": DocumentKind.choices,
            "kind": kind,
            "may_review": user.role in services.DOCUMENT_REVIEWERS,
        },
    )


def _decide(request):
    user = request.user
    try:
        document = selectors.document_get_for(user, request.POST.get("document_id"))
    except NotFound:
        raise Http404("Document not found.") from None
    owner = document.student or document.lead
    try:
        document = services.document_review(
            actor=user, document=document, status=request.POST.get("decision", ""), note=request.POST.get("note", "")
        )
    except ApplicationError as exc:
        messages.error(request, f"{document.get_kind_display()} of {owner.full_name}: {exc.message}")
    else:
        messages.success(request, f"{document.get_kind_display()} of {owner.full_name} {document.status}.")
    back = request.POST.get("next") or ""  # the student workspace reviews here and returns to itself
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = request.get_full_path()
    return HttpResponseRedirect(back)


@xframe_options_sameorigin  # the review page shows PDFs in a frame of its own origin
def document_file(request, document_id):
    """The file, for someone who may see the document (else 404); `?inline=1` shows images and PDFs."""
    try:
        document = selectors.document_get_for(request.user, document_id)
    except NotFound:
        raise Http404("Document not found.") from None
    return file_response(
        request,
        key=document.file_key,
        download_name=document.file_name,
        mime_type=document.mime_type,
        inline=request.GET.get("inline") == "1",
    )
