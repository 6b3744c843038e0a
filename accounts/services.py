"""Writes on users: signup, staff management, deactivation, passwords."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import ROLE_RANK, STAFF_ROLES, Role, User
from accounts.selectors import user_can_manage
from core.errors import Conflict, Forbidden, ValidationFailed
from core.realtime import disconnect_user


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], code="weak_password", details={"password": exc.messages}) from None


def _check_email_free(email: str, *, exclude_pk=None) -> None:
    taken = User.objects.filter(email__iexact=email.strip())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise Conflict("An account with this email already exists.", code="email_taken", details={"email": email})


def _save_new(user: User) -> User:
    """Save, answering a lost race on the unique email with 409."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # a concurrent signup with the same email won the race
        raise Conflict("An account with this email already exists.", code="email_taken") from None
    return user


def _check_office_for_role(role: str, office) -> None:
    if role in STAFF_ROLES - {Role.SUPER_ADMIN} and office is None:
        raise ValidationFailed("Staff must belong to an office.", code="office_required", details={"office_id": ["required"]})


@transaction.atomic
def student_signup(*, email: str, password: str, first_name: str, last_name: str, phone: str = "") -> User:
    """A prospective student creates their own account."""
    _check_email_free(email)
    user = User(email=email, first_name=first_name, last_name=last_name, phone=phone, role=Role.STUDENT)
    _validate_password(password, user)
    user.set_password(password)
    _save_new(user)
    from leads.services import lead_create_for_signup

    lead_create_for_signup(student=user)
    return user


def _staff_joined_office(user: User) -> None:
    """A consultant or receptionist joining an office gets a conversation with its managers."""
    from django.conf import settings

    if not settings.AUTO_CREATE_CONVERSATIONS or user.role not in (Role.CONSULTANT, Role.RECEPTIONIST) or not user.office_id:
        return
    from messaging.services import conversation_ensure_direct

    for manager in User.objects.filter(role=Role.MANAGER, office_id=user.office_id, is_active=True):
        conversation_ensure_direct(user_a=manager, user_b=user, office=user.office)


@transaction.atomic
def user_create(
    *, actor: User, email: str, password: str, first_name: str = "", last_name: str = "",
    role: str, office=None, phone: str = "",
) -> User:
    if actor.role not in (Role.SUPER_ADMIN, Role.MANAGER):
        raise Forbidden("Only managers and super admins create users.")
    if actor.role == Role.MANAGER:
        if office is not None and office.pk != actor.office_id:
            raise Forbidden("Managers create users in their own office only.", code="other_office")
        office = actor.office
        if ROLE_RANK[role] >= ROLE_RANK[actor.role]:
            raise Forbidden("You cannot create a user with this role.", code="role_too_high")
    if role == Role.SUPER_ADMIN:
        office = None
    _check_office_for_role(role, office)
    _check_email_free(email)
    user = User(email=email, first_name=first_name, last_name=last_name, role=role, office=office, phone=phone)
    _validate_password(password, user)
    user.set_password(password)
    _save_new(user)
    _staff_joined_office(user)
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, **changes) -> User:
    """Staff management: names, phone, email, role and office (within the actor's authority)."""
    if not user_can_manage(actor, user):
        raise Forbidden("You cannot change this user.")
    role = changes.get("role", user.role)
    office = changes.get("office", user.office)
    if actor.role == Role.MANAGER:
        if ROLE_RANK[role] >= ROLE_RANK[actor.role]:
            raise Forbidden("You cannot give this role.", code="role_too_high")
        if office is None or office.pk != actor.office_id:
            raise Forbidden("Managers keep users in their own office.", code="other_office")
    if role == Role.SUPER_ADMIN:
        office = None
    _check_office_for_role(role, office)
    if "email" in changes:
        _check_email_free(changes["email"], exclude_pk=user.pk)
    for field in ("first_name", "last_name", "phone", "email"):
        if field in changes:
            setattr(user, field, changes[field])
    joined = office is not None and (office.pk != user.office_id or role != user.role)
    user.role, user.office = role, office
    _save_new(user)  # also turns a concurrent email change into 409, not 500
    if joined:
        _staff_joined_office(user)
    return user


@transaction.atomic
def profile_update(*, user: User, first_name=None, last_name=None, phone=None) -> User:
    """A user edits their own profile; role, office and email are not theirs to change."""
    for field, value in (("first_name", first_name), ("last_name", last_name), ("phone", phone)):
        if value is not None:
            setattr(user, field, value)
    user.save(update_fields=["first_name", "last_name", "phone", "updated_at"])
    return user


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
    disconnect_user(user.pk)
    return user


@transaction.atomic
def user_activate(*, actor: User, user: User) -> User:
    if not user_can_manage(actor, user):
        raise Forbidden("You cannot reactivate this user.")
    user.is_active = True
    user.save(update_fields=["is_active", "updated_at"])
    return user


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> User:
    """Changing the password signs every other session out (refresh tokens revoked)."""
    if not user.check_password(old_password):
        raise ValidationFailed("The current password is wrong.", code="wrong_password", details={"old_password": ["wrong"]})
    _validate_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    refresh_tokens_revoke(user=user)
    return user
