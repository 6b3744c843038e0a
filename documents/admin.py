from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.scoped_admin import ReadOnlyScopedAdmin
from documents import admin_views, selectors
from documents.models import Document


@admin.register(Document)
class DocumentAdmin(ReadOnlyScopedAdmin):
    list_display = ["file_name", "kind", "status", "owner", "office", "created_at", "download"]
    list_filter = ["kind", "status", "office"]
    search_fields = [
        "file_name",
        "student__first_name",
        "student__last_name",
        "student__email",
        "lead__first_name",
        "lead__last_name",
        "lead__email",
    ]
    list_select_related = ["student", "lead", "office"]
    exclude = ["file_key"]
    readonly_fields = ["owner", "download"]

    def scoped_queryset(self, request):
        return selectors.document_list_for(request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("review/", view(admin_views.review), name="documents_document_review"),
            path("<int:document_id>/file/", view(admin_views.document_file), name="documents_document_file"),
            *super().get_urls(),
        ]

    @admin.display(description="owner")
    def owner(self, document):
        owner = document.student or document.lead
        return owner.full_name if owner else "-"

    @admin.display(description="file")
    def download(self, document):
        return format_html('<a href="{}">Download</a>', reverse("admin:documents_document_file", args=[document.pk]))
