"""Notifications: stored for the inbox and pushed live as `notification_received` after commit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from core.realtime import broadcast_to_users
from notifications.models import Notification


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
def notifications_create(*, recipients: Iterable, kind: str, title: str, body: str = "", data: dict | None = None) -> list[Notification]:
    """One notification per recipient (in one INSERT), each pushed to that recipient's sockets."""
    created = Notification.objects.bulk_create(
        [Notification(recipient=user, kind=kind, title=title, body=body, data=data or {}) for user in recipients]
    )
    for notification in created:
        broadcast_to_users([notification.recipient_id], "notification_received", notification_payload(notification))
    return created


def notification_create(*, recipient, kind: str, title: str, body: str = "", data: dict | None = None) -> Notification:
    return notifications_create(recipients=[recipient], kind=kind, title=title, body=body, data=data)[0]
