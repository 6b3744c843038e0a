"""The person's account in their export and erasure, and how long sign-in records are kept (core.privacy)."""

from __future__ import annotations

from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.services import refresh_tokens_revoke
from core.privacy import REMOVED, Area, AreaExport, Erasure, RetentionRule, register_area, register_retention
from core.realtime import disconnect_user


def export(person: User) -> AreaExport:
    return AreaExport(
        {
            "id": person.pk,
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "phone": person.phone,
            "role": person.role,
            "office": {"id": person.office_id, "name": person.office.name} if person.office else None,
            "is_active": person.is_active,
            "date_joined": person.date_joined,
            "last_login": person.last_login,
            "last_seen": person.last_seen,
            "legal_hold": person.legal_hold,
            "email_addresses": [
                {"email": e.email, "verified": e.verified, "primary": e.primary}
                for e in EmailAddress.objects.filter(user=person).order_by("id")
            ],
            "social_accounts": [
                {
                    "provider": a.provider,
                    "uid": a.uid,
                    "date_joined": a.date_joined,
                    "last_login": a.last_login,
                    "extra_data": a.extra_data,
                }
                for a in SocialAccount.objects.filter(user=person).order_by("id")
            ],
        }
    )


def erase(erasure: Erasure) -> None:
    """Last of the areas: the user row keeps its id (audit entries, histories and report numbers point
    at it) and loses everything that identifies the person; every way back in is closed."""
    person: User = erasure.person
    erasure.count("social accounts", SocialAccount.objects.filter(user=person).delete()[0])
    erasure.count("email addresses", EmailAddress.objects.filter(user=person).delete()[0])
    for model in (AccessAttempt, AccessFailureLog, AccessLog):  # sign-in records keyed by the email
        erasure.count("sign-in records", model.objects.filter(username__iexact=erasure.email).delete()[0])
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(person.pk)
    ).exclude(object_repr=REMOVED)
    erasure.count("console log entries pseudonymised", entries.update(object_repr=REMOVED, change_message=""))
    erasure.count("sign-in tokens revoked", refresh_tokens_revoke(user=person))
    person.first_name, person.last_name = "Erased", "user"
    person.email = f"erased-{person.pk}@erased.invalid"
    person.phone = ""
    person.is_active = False
    person.set_unusable_password()  # access tokens carry a hash of the password hash: they die here
    person.last_login = person.last_seen = None
    person.legal_hold = False
    person.erased_at = erasure.at
    person.save()
    disconnect_user(person.pk)  # after commit: every socket of the person closes


register_area(
    Area(
        name="profile",
        description=(
            "Your account: name, email, phone, role and office, when you joined and last signed in, "
            "and the Google or Facebook accounts linked to it."
        ),
        export=export,
        erase=erase,
        covers={
            "token_blacklist.OutstandingToken.user": "the person's sign-in tokens: revoked on erasure, "
            "deleted once expired (retention)",
            "account.EmailAddress.user": "email addresses of social sign-in: exported, deleted on erasure",
            "socialaccount.SocialAccount.user": "linked Google/Facebook accounts: exported, deleted on erasure",
        },
        kept={
            "admin.LogEntry.user": "the console's record of what a staff member changed (their name comes from "
            "the pseudonymised user row); entries about the erased person lose their text",
        },
        order=1000,
    )
)


def _expired_credentials(now: datetime) -> int:
    """Refresh tokens expired (with their blacklist entries), sessions expired, sign-in failures past the
    period. Password reset codes are never stored (derived from the password hash and a timestamp)."""
    cutoff = now - timedelta(days=settings.EXPIRED_CREDENTIALS_RETENTION_DAYS)
    removed = OutstandingToken.objects.filter(expires_at__lt=cutoff).delete()[0]
    removed += Session.objects.filter(expire_date__lt=cutoff).delete()[0]
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        removed += model.objects.filter(attempt_time__lt=cutoff).delete()[0]
    return removed


register_retention(
    RetentionRule(
        name="expired sign-in credentials",
        setting="EXPIRED_CREDENTIALS_RETENTION_DAYS",
        description="Refresh tokens and console sessions that expired, and records of failed sign-ins, are "
        "deleted this many days after they expired or happened.",
        apply=_expired_credentials,
    )
)
