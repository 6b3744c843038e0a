"""Writes on users: signup, staff management, deactivation, passwords."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.emails import email_local_part_is_ascii
from accounts.errors import AccountErrorCode
from accounts.lockout import current_password_matches, lock_lift
from accounts.models import MANAGING_ROLES, ROLE_RANK, STAFF_ROLES, Role, User
from accounts.selectors import user_can_manage, user_with_email
from accounts.signals import session_ended, sessions_revoked, student_signed_up, user_joined_office
from core.errors import Conflict, Forbidden, ValidationFailed
from core.realtime import disconnect_user, rights_changed

logger = logging.getLogger(__name__)


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            exc.messages[0], code=AccountErrorCode.WEAK_PASSWORD, details={"password": exc.messages}
        ) from None


def email_check_new(email: str, *, exclude_pk=None) -> None:
    """An address a new account (or a renamed one) may take: ASCII before the @ once canonical, and
    no other account's in any spelling."""
    if not email_local_part_is_ascii(email):
        raise ValidationFailed(
            "Use an email address with only ASCII letters before the @.",
            code=AccountErrorCode.INVALID_EMAIL,
            details={"email": ["The part before the @ must be ASCII."]},
        )
    taken = user_with_email(email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise Conflict(
            "An account with this email already exists.", code=AccountErrorCode.EMAIL_TAKEN, details={"email": email}
        )


def _save_new(user: User) -> User:
    """Save, answering a lost race on the unique email with 409."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent signup with the same email won the race
        raise Conflict("An account with this email already exists.", code=AccountErrorCode.EMAIL_TAKEN) from None
    return user


def _check_cap_for_role(role: str, max_open_leads: int | None) -> None:
    """A cap on open leads (lead routing skips a consultant at it) is a consultant's only; empty: no cap."""
    if max_open_leads is not None and role != Role.CONSULTANT:
        raise ValidationFailed(
            "Only consultants take a cap on open leads.",
            code=AccountErrorCode.CAP_FOR_CONSULTANTS,
            details={"max_open_leads": ["consultants only"]},
        )


def _check_office_for_role(role: str, office) -> None:
    if role in STAFF_ROLES - {Role.SUPER_ADMIN} and office is None:
        raise ValidationFailed(
            "Staff must belong to an office.",
            code=AccountErrorCode.OFFICE_REQUIRED,
            details={"office_id": ["required"]},
        )


@transaction.atomic
def student_signup(*, email: str, password: str | None, first_name: str, last_name: str, phone: str = "") -> User:
    """A prospective student creates their own account: over the API with a password, or with a first
    Google / Facebook sign-in (`password=None`: no password until they set one through a reset)."""
    email_check_new(email)
    user = User(email=email, first_name=first_name, last_name=last_name, phone=phone, role=Role.STUDENT)
    if password is None:
        user.set_unusable_password()
    else:
        _validate_password(password, user)
        user.set_password(password)
    _save_new(user)
    student_signed_up.send(sender=User, user=user)  # a website lead (onboarding.receivers)
    return user


@transaction.atomic
def user_create(
    *,
    actor: User,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    role: str,
    office=None,
    phone: str = "",
    max_open_leads: int | None = None,
) -> User:
    if actor.role not in MANAGING_ROLES:
        raise Forbidden("Only managers and super admins create users.")
    if actor.role == Role.MANAGER:
        if office is not None and office.pk != actor.office_id:
            raise Forbidden("Managers create users in their own office only.", code=AccountErrorCode.OTHER_OFFICE)
        office = actor.office
        if ROLE_RANK[role] >= ROLE_RANK[actor.role]:
            raise Forbidden("You cannot create a user with this role.", code=AccountErrorCode.ROLE_TOO_HIGH)
    if role == Role.SUPER_ADMIN:
        office = None
    _check_office_for_role(role, office)
    _check_cap_for_role(role, max_open_leads)
    email_check_new(email)
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        office=office,
        phone=phone,
        max_open_leads=max_open_leads,
    )
    _validate_password(password, user)
    user.set_password(password)
    _save_new(user)
    if office is not None:
        user_joined_office.send(sender=User, user=user)  # onboarding.receivers
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, **changes) -> User:
    """Staff management: names, phone, email, role, office and a consultant's cap on open leads
    (`max_open_leads`, read by lead routing; None: no cap) within the actor's authority. A user who stops
    being a consultant loses their cap."""
    if not user_can_manage(actor, user):
        raise Forbidden("You cannot change this user.")
    role = changes.get("role", user.role)
    office = changes.get("office", user.office)
    cap = changes.get("max_open_leads", user.max_open_leads if role == Role.CONSULTANT else None)
    if actor.role == Role.MANAGER:
        if ROLE_RANK[role] >= ROLE_RANK[actor.role]:
            raise Forbidden("You cannot give this role.", code=AccountErrorCode.ROLE_TOO_HIGH)
        if office is None or office.pk != actor.office_id:
            raise Forbidden("Managers keep users in their own office.", code=AccountErrorCode.OTHER_OFFICE)
    if role == Role.SUPER_ADMIN:
        office = None
    _check_office_for_role(role, office)
    _check_cap_for_role(role, cap)
    if "email" in changes:
        email_check_new(changes["email"], exclude_pk=user.pk)
    for field in ("first_name", "last_name", "phone", "email"):
        if field in changes:
            setattr(user, field, changes[field])
    rights_moved = role != user.role or (office.pk if office else None) != user.office_id
    joined = office is not None and rights_moved
    user.role, user.office, user.max_open_leads = role, office, cap
    _save_new(user)  # also turns a concurrent email change into 409, not 500
    if joined:
        user_joined_office.send(sender=User, user=user)
    if rights_moved:
        rights_changed(user.pk)  # open sockets reconnect with the new role and office
    return user


@transaction.atomic
def student_create_for_lead(*, email: str, first_name: str, last_name: str, phone: str, office) -> User:
    """A converted lead's new account (`leads.services.lead_convert`): a student of the lead's office,
    with no password until they set one through a reset. The address is checked as any new account's."""
    email_check_new(email)
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        role=Role.STUDENT,
        office=office,
    )
    user.set_unusable_password()
    return _save_new(user)


def student_office_claim(*, actor: User, student: User, office) -> None:
    """A student no office has yet (a website signup) becomes `office`'s, as their lead is converted
    there. Their open sockets reconnect, as after any change of office."""
    if student.office_id is None and User.objects.filter(pk=student.pk, office__isnull=True).update(office=office):
        student.office = office
        rights_changed(student.pk)


@transaction.atomic
def profile_update(*, user: User, first_name=None, last_name=None, phone=None) -> User:
    """A user edits their own profile; role, office and email are not theirs to change."""
    for field, value in (("first_name", first_name), ("last_name", last_name), ("phone", phone)):
        if value is not None:
            setattr(user, field, value)
    user.save(update_fields=["first_name", "last_name", "phone", "updated_at"])
    return user


def session_start(*, user: User) -> RefreshToken:
    """A sign-in session's first token pair. Its "sid" claim names the session through every rotation
    (simplejwt copies claims to the access token and keeps them when it rotates the refresh token), so
    what the session registered (its push devices) can end with it."""
    refresh = RefreshToken.for_user(user)
    refresh["sid"] = uuid.uuid4().hex
    return refresh


def session_end(*, refresh: str) -> None:
    """Sign a session out: its refresh token is blacklisted and what it registered goes (session_ended)."""
    token = RefreshToken(refresh)  # type: ignore[arg-type]  # (the stubs type it Token; it parses a str) TokenError if bad
    token.blacklist()
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    if user_id is not None and token.payload.get("sid"):
        session_ended.send(sender=User, user_id=int(user_id), session_id=str(token.payload["sid"]))


def refresh_tokens_revoke(*, user: User) -> int:
    """Blacklist every outstanding refresh token of `user`; returns how many."""
    outstanding = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    tokens = list(outstanding)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True)
    return len(tokens)


@transaction.atomic
def user_deactivate(*, actor: User, user: User) -> User:
    """The user can no longer sign in: refresh tokens revoked, open sockets closed."""
    if not user_can_manage(actor, user):
        raise Forbidden("You cannot deactivate this user.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
    refresh_tokens_revoke(user=user)
    sessions_revoked.send(sender=User, user_id=user.pk)
    disconnect_user(user.pk)
    return user


@transaction.atomic
def user_activate(*, actor: User, user: User) -> User:
    if not user_can_manage(actor, user):
        raise Forbidden("You cannot reactivate this user.")
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])
    return user


def _password_set(*, user: User, new_password: str) -> User:
    """Every door that sets a password ends the same way: the old sessions are over. Access tokens
    carry a hash of the password hash (CHECK_REVOKE_TOKEN) and die with it, refresh tokens are
    blacklisted, open sockets close."""
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    refresh_tokens_revoke(user=user)
    sessions_revoked.send(sender=User, user_id=user.pk)
    disconnect_user(user.pk)
    return user


def password_change(*, user: User, old_password: str, new_password: str, request=None) -> User:
    """Changing the password signs every session out, this one included (the caller gets a new pair).

    `request`: the door's, so wrong current passwords count on the sign-in lockout (accounts/lockout.py)
    and a locked account's check is refused (429 `login_locked`). The check runs before the
    transaction: a failure it records must not roll back with the refusal."""
    if not current_password_matches(request, user=user, password=old_password):
        raise ValidationFailed(
            "The current password is wrong.", code=AccountErrorCode.WRONG_PASSWORD, details={"old_password": ["wrong"]}
        )
    with transaction.atomic():
        return _password_set(user=User.objects.select_for_update().get(pk=user.pk), new_password=new_password)


def password_reset_request(*, email: str) -> None:
    """Mail a single-use, expiring reset link to the active account with this email, if there is one.

    The caller learns nothing either way (no account enumeration): no error, and a mail server
    that fails is logged, not reported. The link carries Django's reset token, which stops working
    once the password changes (so it works once) or after PASSWORD_RESET_TIMEOUT.
    """
    user = user_with_email(email).filter(is_active=True).first()
    if user is None:
        return
    code = f"{urlsafe_base64_encode(force_bytes(user.pk))}.{default_token_generator.make_token(user)}"
    # In the fragment: browsers never send it to a server, so it reaches no access log or Referer.
    link = f"{settings.FRONTEND_URL.rstrip('/')}/auth/reset-password#code={code}"
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    body = (
        f"Hello {user.first_name or user.email},\n\n"
        f"Someone (we hope you) asked to reset the password of your account. Choose a new one here:\n\n"
        f"{link}\n\n"
        f"Or paste this code in the app: {code}\n\n"
        f"The link works once, for {minutes} minutes. If you did not ask, ignore this email: "
        f"your password stays as it is.\n"
    )
    try:
        send_mail("Reset your password", body, None, [user.email])
    except Exception:  # the caller must not learn the account exists from an error
        logger.exception("password reset email could not be sent")


def _user_for_reset(code: str) -> User:
    uid, _, token = code.partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        pk = 0
    # beyond bigint PostgreSQL would answer an error, not "no such row"
    user = User.objects.select_for_update().filter(pk=pk, is_active=True).first() if 0 < pk < 2**63 else None
    if user is None or not default_token_generator.check_token(user, token):
        raise ValidationFailed(
            "This reset code is invalid, expired or already used; ask for a new one.",
            code=AccountErrorCode.RESET_CODE_INVALID,
            details={"code": ["invalid"]},
        )
    return user


@transaction.atomic
def password_reset_confirm(*, code: str, new_password: str) -> User:
    """Set the password from a reset code; the code stops working and every token of the user dies.
    The account's sign-in lock goes too: whoever reads the mailbox is the owner, and otherwise an
    anonymous guesser could keep them out for good (docs/security.md)."""
    user = _password_set(user=_user_for_reset(code), new_password=new_password)
    lock_lift(user=user)
    return user
