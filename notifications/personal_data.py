"""A person's notifications in their export and erasure; how long read notifications are kept (core.privacy)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from accounts.models import User
from core.privacy import Area, AreaExport, Erasure, RetentionRule, register_area, register_retention
from notifications.models import Announcement, Notification, NotificationPreference


def export(person: User) -> AreaExport:
    preference = NotificationPreference.objects.filter(user=person).first()
    return AreaExport(
        {
            "preferences": None
            if preference is None
            else {
                "channels": preference.channels,
                "quiet_start": preference.quiet_start,
                "quiet_end": preference.quiet_end,
                "private_previews": preference.private_previews,
                "timezone": preference.timezone,
            },
            "notifications": [
                {
                    "kind": n.kind,
                    "title": n.title,
                    "body": n.body,
                    "data": n.data,
                    "read_at": n.read_at,
                    "created_at": n.created_at,
                }
                for n in Notification.objects.filter(recipient=person).order_by("id").iterator(chunk_size=2000)
            ],
        }
    )


def erase(erasure: Erasure) -> None:
    erasure.count("notifications deleted", Notification.objects.filter(recipient=erasure.person).delete()[0])
    NotificationPreference.objects.filter(user=erasure.person).delete()
    pattern = erasure.pattern()
    if pattern is None:
        return
    # Other people's notifications and announcements that name the person ("New lead: Amara Okafor").
    named = Q(title__iregex=pattern.pattern) | Q(body__iregex=pattern.pattern)
    for model in (Notification, Announcement):
        for item in model.objects.filter(named).only("id", "title", "body"):
            item.title, item.body = erasure.scrub(item.title), erasure.scrub(item.body)
            item.save(update_fields=["title", "body"])
            erasure.count("mentions in notifications removed", 1)


register_area(
    Area(
        name="notifications",
        description="Your notification preferences, and the notifications you received (read or not, until read "
        "ones expire), with what they pointed to.",
        export=export,
        erase=erase,
        covers={
            "notifications.Notification.recipient": "the person's inbox: exported; deleted on erasure",
            "notifications.NotificationPreference.user": "what reaches the person by push and email: exported; "
            "deleted on erasure",
        },
        kept={"notifications.Announcement.author": "an announcement a staff member sent to an office or everyone"},
    )
)


def _read_notifications(now: datetime) -> int:
    days = settings.NOTIFICATION_READ_RETENTION_DAYS
    if days <= 0:
        return 0
    return Notification.objects.filter(read_at__lt=now - timedelta(days=days)).delete()[0]


register_retention(
    RetentionRule(
        name="read notifications",
        setting="NOTIFICATION_READ_RETENTION_DAYS",
        description="A notification read this many days ago is deleted (unread ones stay). 0 keeps them.",
        apply=_read_notifications,
    )
)
