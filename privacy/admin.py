from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import Role
from accounts.requests import signed_in_user
from accounts.scoped_admin import ReadOnlyScopedAdmin
from privacy import selectors
from privacy.models import PrivacyAudit


@admin.register(PrivacyAudit)
class PrivacyAuditAdmin(ReadOnlyScopedAdmin):
    """The super admin's list of who exported or erased whose data, when and why."""

    list_display = ["created_at", "actor", "action", "subject", "reason"]
    list_filter = ["action"]
    list_select_related = ["actor", "subject"]
    view_roles = frozenset({Role.SUPER_ADMIN})

    def scoped_queryset(self, request: HttpRequest) -> QuerySet[PrivacyAudit]:
        return selectors.privacy_audit_for(signed_in_user(request))
