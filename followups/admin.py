from django.contrib import admin

from accounts.models import STAFF_ROLES
from accounts.scoped_admin import ReadOnlyScopedAdmin
from followups import selectors
from followups.models import Task


@admin.register(Task)
class TaskAdmin(ReadOnlyScopedAdmin):
    """Tasks are written by the services only (the API, the student workspace)."""

    list_display = ["title", "assignee", "due_at", "priority", "status"]
    list_filter = ["status", "priority"]
    list_select_related = ["assignee"]
    view_roles = frozenset(STAFF_ROLES)

    def scoped_queryset(self, request):
        return selectors.task_list_for(request.user)
