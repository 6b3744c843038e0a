"""Jobs of the one delivery path (`notifications.delivery`): notifications to push and email."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core.jobs import Retryable, job
from devices.models import Device
from devices.providers import Push
from notifications import delivery
from notifications.models import Delivery, Notification
from notifications.preferences import category_of

PUSH_BODY_LENGTH = 180


def _push_for(notification: Notification, private: bool) -> Push:
    data = {key: str(value) for key, value in (notification.data or {}).items() if isinstance(value, str | int)}
    data |= {"notification_id": str(notification.pk), "kind": notification.kind}
    body = "" if private else notification.body[:PUSH_BODY_LENGTH]
    return Push(title=notification.title, body=body, data=data, collapse_key=f"notification-{notification.pk}")


@job()
def deliver_notifications(notification_ids: list[int]) -> None:
    """Push and email each of these notifications as its recipient's preferences say: push unless in
    their quiet hours or already read, email when they chose it. Each target once (the ledger)."""
    notifications = list(
        Notification.objects.filter(pk__in=notification_ids, recipient__is_active=True).select_related(
            "recipient", "recipient__office"
        )
    )
    if not notifications:
        return
    people = {n.recipient_id: n.recipient for n in notifications}
    chosen = delivery.preferences_of(people.values())
    devices: dict[int, list[Device]] = {}
    for device in Device.objects.filter(user_id__in=people):
        devices.setdefault(device.user_id, []).append(device)
    now = timezone.now()
    pushes: list[tuple[str, Push, list[Device]]] = []
    emails: list[tuple[str, EmailMultiAlternatives]] = []
    for notification in notifications:
        user, prefs = notification.recipient, chosen[notification.recipient_id]
        category = category_of(notification.kind)
        event = f"notification:{notification.pk}"
        if (
            notification.read_at is None
            and devices.get(user.pk)
            and prefs.allows(category, "push")
            and not prefs.quiet_at(now)
        ):
            pushes.append((event, _push_for(notification, prefs.private_previews), devices[user.pk]))
        if prefs.allows(category, "email") and user.email:
            message = delivery.email_message(
                user=user,
                category=category,
                subject=notification.title,
                template="notifications/email/notification",
                context={"notification": notification, "private": prefs.private_previews},
            )
            emails.append((event, message))
    pushed = delivery.push_to_many(pushes)  # first: a mail server that is down holds up no push
    for event, message in emails:
        try:
            delivery.email_to_user(event=event, message=message)
        except (smtplib.SMTPException, OSError) as exc:
            raise Retryable(f"mail server: {exc}") from exc
    delivery.raise_for_retries(pushed, "pushes")


@job()
def prune_delivery_ledger() -> int:
    """The ledger only has to outlive any retry: rows older than DELIVERY_LEDGER_DAYS go."""
    cutoff = timezone.now() - timedelta(days=settings.DELIVERY_LEDGER_DAYS)
    return Delivery.objects.filter(created_at__lt=cutoff).delete()[0]
