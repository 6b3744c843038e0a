from django.db.models import Q, QuerySet

from accounts.models import Role, User
from notifications.models import Announcement, Notification


def notification_list_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notifications_readable_by(user: User) -> QuerySet[Notification]:
    """Notifications `user` may look through in the console: their own; a super admin's: everyone's (support)."""
    if user.is_active and user.role == Role.SUPER_ADMIN:
        return Notification.objects.all()
    return notification_list_for(user)


def announcement_list_for(user: User) -> QuerySet[Announcement]:
    if user.role == Role.SUPER_ADMIN:
        return Announcement.objects.all()
    return Announcement.objects.filter(Q(office__isnull=True) | Q(office_id=user.office_id))
