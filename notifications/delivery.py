"""The one path from "someone should hear about this" to their phone, browser and mailbox.

Everything that reaches a person who is not looking goes through `push_to_user` and `email_to_user`:
notifications (`notifications.tasks.deliver_notifications`, sent by `notifications_create` for every
notification any area creates), message bursts and missed-message emails (`messaging.offline`).
Both run inside Celery jobs, never in a request.

**Sent once.** Each target of an event has a key in the ledger (`Delivery`): `push:<event>:d<device>`,
`email:<event>`. The row is inserted, the provider called, and the row committed only once the
provider took it, all in one transaction. A retry or a second worker finds the committed row and
skips; it blocks on an uncommitted one until the first finishes, then skips or (if the first rolled
back) sends. A worker killed mid-send leaves no row (PostgreSQL rolls back with the connection), so
the job, returned to the queue (acks late), sends it. The one window left is between the provider's
answer and the commit: a push there may come twice, and a collapse key makes the device show it once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.jobs import Retryable
from devices.models import Device
from devices.providers import Outcome, Push, push_to_device
from devices.services import device_forget_dead
from notifications import preferences
from notifications.models import NotificationPreference

logger = logging.getLogger("crm.push")

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


class _SendFailed(Exception):
    """Raised inside a claim's transaction to roll the claim back."""


def _claim(key: str) -> bool:
    with connection.cursor() as cursor:
        # This transaction's commit does not wait for the WAL flush (3 ms a push on a busy disk): only a
        # crash of PostgreSQL itself in those milliseconds could lose the row, and then a push come twice.
        cursor.execute("SET LOCAL synchronous_commit TO off")
        cursor.execute(
            "INSERT INTO notifications_delivery (key, created_at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING "
            "RETURNING id",
            [key[:200], timezone.now()],
        )
        return cursor.fetchone() is not None


@dataclass
class PushSummary:
    sent: int = 0
    dead: int = 0
    retry: int = 0
    skipped: int = 0
    retry_after: float | None = None
    sent_devices: list[int] = field(default_factory=list)

    def add(self, other: PushSummary) -> None:
        self.sent, self.dead, self.retry, self.skipped = (
            self.sent + other.sent,
            self.dead + other.dead,
            self.retry + other.retry,
            self.skipped + other.skipped,
        )
        self.retry_after = max(self.retry_after or 0, other.retry_after or 0) or None
        self.sent_devices += other.sent_devices


_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (process id, size, pool)


def _senders(threads: int) -> ThreadPoolExecutor:
    """This process's sending threads, kept across jobs: each keeps its provider connections open
    (a TLS handshake per job and thread otherwise). Made after the worker forked, never inherited."""
    global _pool
    if _pool is None or _pool[:2] != (os.getpid(), threads):
        _pool = (os.getpid(), threads, ThreadPoolExecutor(max_workers=threads, thread_name_prefix="push"))
    return _pool[2]


def push_to_many(sends: list[tuple[str, Push, list[Device]]]) -> PushSummary:
    """`push_to_user` for many users at once, PUSH_SEND_THREADS at a time (each thread its own database
    connection for its claims, returned to the pool when it is done). Marks the devices used."""
    total = PushSummary()
    if not sends:
        return total

    def run(send: tuple[str, Push, list[Device]]) -> PushSummary:
        try:
            return push_to_user(event=send[0], push=send[1], devices=send[2])
        finally:
            connection.close()

    threads = max(1, settings.PUSH_SEND_THREADS)
    if len(sends) == 1 or threads == 1:
        for event, push, devices in sends:
            total.add(push_to_user(event=event, push=push, devices=devices))
    else:
        for summary in _senders(threads).map(run, sends):
            total.add(summary)
    if total.sent_devices:
        Device.objects.filter(pk__in=total.sent_devices).update(last_used_at=timezone.now())
    return total


def push_to_user(*, event: str, push: Push, devices: Iterable[Device]) -> PushSummary:
    """Push to each of these devices (one user's) once for `event`. Dead tokens are deleted. A device the
    provider asked to try later is left unclaimed; `Retryable` is raised after the others were sent."""
    summary = PushSummary()
    for device in devices:
        try:
            with transaction.atomic():
                if not _claim(f"push:{event}:d{device.pk}"):
                    summary.skipped += 1
                    continue
                result = push_to_device(device, push)
                if result.outcome == Outcome.RETRY:
                    summary.retry += 1
                    summary.retry_after = max(summary.retry_after or 0, result.retry_after or 0) or None
                    raise _SendFailed(result.detail)
                if result.outcome == Outcome.DEAD:
                    device_forget_dead(device_id=device.pk)
                    summary.dead += 1
                elif result.outcome == Outcome.REFUSED:
                    logger.warning(
                        "push refused", extra={"device": device.pk, "kind": device.kind, "why": result.detail}
                    )
                else:
                    summary.sent += 1
                    summary.sent_devices.append(device.pk)
        except _SendFailed:
            continue
    return summary


def raise_for_retries(summary: PushSummary, what: str) -> None:
    if summary.retry:
        raise Retryable(f"{summary.retry} {what} to send again", retry_after=summary.retry_after)


def email_to_user(*, event: str, message: EmailMultiAlternatives) -> bool:
    """Send this email once for `event`. A failing mail server raises (the job retries); False when
    it was already sent."""
    with transaction.atomic():
        if not _claim(f"email:{event}"):
            return False
        message.send()
    return True


# --- preferences -----------------------------------------------------------------------------------


def preferences_of(users: Iterable[User]) -> dict[int, preferences.Preferences]:
    """Effective preferences of these users (their office selected), one query."""
    users = list(users)
    rows = {row.user_id: row for row in NotificationPreference.objects.filter(user__in=[u.pk for u in users])}
    return {user.pk: preferences_for(user, rows.get(user.pk)) for user in users}


def preferences_for(user: User, row: NotificationPreference | None) -> preferences.Preferences:
    office = getattr(user, "office", None) if user.office_id else None
    return preferences.effective(
        role=user.role,
        overrides=row.channels if row else None,
        quiet_start=row.quiet_start if row else None,
        quiet_end=row.quiet_end if row else None,
        private_previews=row.private_previews if row else False,
        timezone=(row.timezone if row and row.timezone else None) or (office.timezone if office else "UTC"),
    )


# --- email -----------------------------------------------------------------------------------------


def unsubscribe_token(*, user_id: int, category: str) -> str:
    return signing.dumps({"u": user_id, "c": category}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    """(user id, category) of a signed unsubscribe link, or None when it was tampered with."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user_id, category = int(data["u"]), str(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (user_id, category) if category in preferences.CATEGORIES else None


def unsubscribe_url(*, user_id: int, category: str) -> str:
    path = reverse("notification-unsubscribe", args=[unsubscribe_token(user_id=user_id, category=category)])
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def email_message(
    *, user: User, category: str, subject: str, template: str, context: dict[str, object]
) -> EmailMultiAlternatives:
    """An email from the templates `<template>.txt` and `.html`, with the one-click unsubscribe of
    `category` (RFC 8058: List-Unsubscribe and List-Unsubscribe-Post headers)."""
    unsubscribe = unsubscribe_url(user_id=user.pk, category=category)
    office = user.office.name if user.office_id and user.office else settings.PRODUCT_NAME
    full = {
        **context,
        "user": user,
        "office_name": office,
        "unsubscribe_url": unsubscribe,
        "frontend_url": settings.FRONTEND_URL.rstrip("/"),
        "category": category,
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", full),
        to=[user.email],
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string(f"{template}.html", full), "text/html")
    return message
