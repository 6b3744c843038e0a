"""Notifications: stored for the inbox and pushed live as `notification_received` after commit."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from core.errors import Forbidden, NotFound, ValidationFailed
from core.jobs import enqueue
from core.realtime import broadcast_to_users
from notifications.delivery import preferences_for, unsubscribe_read
from notifications.errors import NotificationErrorCode
from notifications.models import Announcement, Notification, NotificationKind, NotificationPreference
from notifications.preferences import CATEGORIES, CHANNELS, Preferences
from notifications.tasks import deliver_notifications

DELIVERY_BATCH = 200  # notifications per delivery job: a big announcement spreads over the workers


def _deliver_later(notifications: list[Notification]) -> None:
    """Every stored notification also goes to its recipient's devices and mailbox as their preferences
    say (`notifications.tasks.deliver_notifications`), once this transaction commits. So an area that
    creates notifications through this service gets push and email without a line of its own."""
    ids = [notification.pk for notification in notifications]
    for start in range(0, len(ids), DELIVERY_BATCH):
        enqueue(deliver_notifications, ids[start : start + DELIVERY_BATCH])


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
    _deliver_later(created)
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
    created = Notification.objects.bulk_create(
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
    _deliver_later(created)
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


# --- preferences ------------------------------------------------------------------------------------


def _time(value: object, field: str) -> time:
    if isinstance(value, str) and len(value) == 5 and value[2] == ":":
        try:
            return time(int(value[:2]), int(value[3:]))
        except ValueError:
            pass
    raise ValidationFailed(
        "Quiet hours are times as HH:MM.", code=NotificationErrorCode.INVALID_PREFERENCES, details={field: ["HH:MM"]}
    )


@transaction.atomic
def preferences_update(*, user: User, changes: dict[str, Any]) -> Preferences:
    """Apply a partial change: {"<category>": {"push"?: bool, "email"?: bool}, "quiet_hours": {"start",
    "end"} | null, "private_previews": bool, "timezone": IANA name or ""}. Unknown keys or wrong types
    are refused whole (400 `invalid_preferences`), nothing half-applied."""
    row, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    channels = dict(row.channels or {})
    problems: dict[str, list[str]] = {}
    for key, value in changes.items():
        if key in CATEGORIES:
            if (
                not isinstance(value, dict)
                or not value
                or any(channel not in CHANNELS or not isinstance(flag, bool) for channel, flag in value.items())
            ):
                problems[key] = ['{"push": true|false, "email": true|false}']
                continue
            channels[key] = {**channels.get(key, {}), **value}
        elif key == "quiet_hours":
            if value is None:
                row.quiet_start = row.quiet_end = None
            elif isinstance(value, dict) and set(value) == {"start", "end"}:
                row.quiet_start, row.quiet_end = (
                    _time(value["start"], "quiet_hours.start"),
                    _time(value["end"], "quiet_hours.end"),
                )
            else:
                problems[key] = ['{"start": "HH:MM", "end": "HH:MM"} or null']
        elif key == "private_previews":
            if not isinstance(value, bool):
                problems[key] = ["true or false"]
            else:
                row.private_previews = value
        elif key == "timezone":
            if not isinstance(value, str) or (value and value not in zoneinfo.available_timezones()):
                problems[key] = ["an IANA time zone name, or empty for the office's"]
            else:
                row.timezone = value
        else:
            problems[key] = ["unknown preference"]
    if problems:
        raise ValidationFailed(
            "Some preferences are not valid.", code=NotificationErrorCode.INVALID_PREFERENCES, details=problems
        )
    row.channels = channels
    row.save()
    return preferences_for(user, row)


def preferences_get(*, user: User) -> Preferences:
    return preferences_for(user, NotificationPreference.objects.filter(user=user).first())


def unsubscribe(*, token: str) -> tuple[User, str]:
    """The one-click unsubscribe of an email: turns that category's email off. 404 for a bad link."""
    found = unsubscribe_read(token)
    user = User.objects.filter(pk=found[0], is_active=True).first() if found else None
    if user is None or found is None:
        raise NotFound("This unsubscribe link is not valid.")
    preferences_update(user=user, changes={found[1]: {"email": False}})
    return user, found[1]
