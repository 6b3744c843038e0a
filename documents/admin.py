from django.contrib import admin

from core.admin import ReadOnlyScopedAdmin
from documents import selectors
from documents.models import Document


@admin.register(Document)
class DocumentAdmin(ReadOnlyScopedAdmin):
    list_display = ["file_name", "kind", "status", "student", "lead", "office", "created_at"]
    list_filter = ["kind", "status", "office"]
    search_fields = ["file_name", "student__email", "lead__email"]
    list_select_related = ["student", "lead", "office"]
    exclude = ["file_key"]

    def scoped_queryset(self, request):
        return selectors.document_list_for(request.user)
