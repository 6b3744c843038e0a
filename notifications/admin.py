from django.contrib import admin

from core.admin import ReadOnlyScopedAdmin
from notifications import selectors
from notifications.models import Announcement


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyScopedAdmin):
    """Announcements are made through the API (POST announcements), which pushes them live."""

    list_display = ["title", "office", "author", "created_at"]
    list_filter = ["office"]
    search_fields = ["title", "body"]
    list_select_related = ["office", "author"]

    def scoped_queryset(self, request):
        return selectors.announcement_list_for(request.user)
