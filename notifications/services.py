"""Notifications: stored for the inbox and pushed live as `notification_received` after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from core.errors import Forbidden, NotFound, ValidationFailed
from core.realtime import broadcast_to_users
from notifications.errors import NotificationErrorCode
from notifications.models import Announcement, Notification, NotificationKind


def notification_payload(notification: Notification) -> dict:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "read": notification.read_at is not None,
        "created_at": notification.created_at.isoformat(),
    }


@transaction.atomic
def notifications_create(
    *, recipients: Iterable, kind: str, title: str, body: str = "", data: dict | None = None
) -> list[Notification]:
    """One notification per recipient (in one INSERT), each pushed to that recipient's sockets."""
    created = Notification.objects.bulk_create(
        [Notification(recipient=user, kind=kind, title=title, body=body, data=data or {}) for user in recipients]
    )
    for notification in created:
        broadcast_to_users([notification.recipient_id], "notification_received", notification_payload(notification))
    return created


def notification_create(*, recipient, kind: str, title: str, body: str = "", data: dict | None = None) -> Notification:
    return notifications_create(recipients=[recipient], kind=kind, title=title, body=body, data=data)[0]


def announcement_payload(announcement) -> dict:
    return {
        "id": announcement.id,
        "title": announcement.title,
        "body": announcement.body,
        "office_id": announcement.office_id,
        "author_id": announcement.author_id,
        "created_at": announcement.created_at.isoformat(),
    }


@transaction.atomic
def announcement_create(*, actor, title: str, body: str = "", office=None):
    """Super admins announce to everyone (or one office); managers to their own office. Pushed live
    as `system_announcement` and kept as notifications for whoever is offline."""
    if actor.role == Role.MANAGER:
        if office is not None and office.pk != actor.office_id:
            raise Forbidden("Managers announce to their own office.", code=NotificationErrorCode.OTHER_OFFICE)
        office = actor.office
    elif actor.role != Role.SUPER_ADMIN:
        raise Forbidden("Only managers and super admins make announcements.")
    title = (title or "").strip()
    if not title:
        raise ValidationFailed("An announcement needs a title.", code=NotificationErrorCode.TITLE_REQUIRED)
    announcement = Announcement.objects.create(author=actor, office=office, title=title[:200], body=body)
    recipients = User.objects.filter(is_active=True).exclude(pk=actor.pk)
    if office is not None:
        recipients = recipients.filter(office=office)
    people = list(recipients.only("id"))
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=NotificationKind.ANNOUNCEMENT,
                title=announcement.title,
                body=body,
                data={"announcement_id": announcement.id},
            )
            for user in people
        ],
        batch_size=1000,
    )
    broadcast_to_users([user.pk for user in people], "system_announcement", announcement_payload(announcement))
    return announcement


def notification_mark_read(*, user, notification_id) -> Notification:
    try:
        notification = Notification.objects.get(pk=int(notification_id), recipient=user)
    except (Notification.DoesNotExist, TypeError, ValueError):
        raise NotFound("Notification not found.") from None
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
