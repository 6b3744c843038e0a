from django.contrib import admin

from accounts.scoped_admin import ReadOnlyScopedAdmin
from notifications import selectors
from notifications.models import Announcement, Notification


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyScopedAdmin):
    """Announcements are made through the API (POST announcements), which pushes them live."""

    list_display = ["title", "office", "author", "created_at"]
    list_filter = ["office"]
    search_fields = ["title", "body"]
    list_select_related = ["office", "author"]

    def scoped_queryset(self, request):
        return selectors.announcement_list_for(request.user)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyScopedAdmin):
    """Staff see their own inbox here; super admins see every notification (support)."""

    list_display = ["title", "kind", "recipient", "read_at", "created_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "recipient__email"]
    list_select_related = ["recipient"]

    def scoped_queryset(self, request):
        return selectors.notifications_readable_by(request.user)
