"""Canned replies: an office's ready answers, inserted by shortcut in a reply (`/fees`). The office's
managers and the super admin keep them; every member of the office's staff reads them."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import MANAGING_ROLES, Role, User
from core.errors import Conflict, CoreErrorCode, Forbidden, ValidationFailed
from messaging.errors import MessagingErrorCode
from messaging.models import CannedReply
from offices.models import Office

CANNED_REPLY_MAX_LENGTH = 4000


def canned_reply_may_write(actor: User, office: Office) -> bool:
    return actor.role == Role.SUPER_ADMIN or (actor.role in MANAGING_ROLES and actor.office_id == office.pk)


def _checked(shortcut: str, content: str) -> tuple[str, str]:
    clean = slugify((shortcut or "").lstrip("/"))[:40]
    if not clean:
        raise ValidationFailed(
            "A shortcut is letters, digits and dashes, e.g. fees.", code=CoreErrorCode.VALIDATION_ERROR
        )
    content = (content or "").strip()
    if not content or len(content) > CANNED_REPLY_MAX_LENGTH:
        raise ValidationFailed(
            f"A canned reply has text, at most {CANNED_REPLY_MAX_LENGTH} characters.",
            code=CoreErrorCode.VALIDATION_ERROR,
        )
    return clean, content


def _save(reply: CannedReply) -> CannedReply:
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError:
        raise Conflict(
            f"This office already has a reply for /{reply.shortcut}.", code=MessagingErrorCode.SHORTCUT_TAKEN
        ) from None
    return reply


@transaction.atomic
def canned_reply_create(*, actor: User, office: Office, shortcut: str, content: str) -> CannedReply:
    if not canned_reply_may_write(actor, office):
        raise Forbidden("The office's managers keep its canned replies.")
    shortcut, content = _checked(shortcut, content)
    return _save(CannedReply(office=office, shortcut=shortcut, content=content, created_by=actor))


@transaction.atomic
def canned_reply_update(
    *, actor: User, reply: CannedReply, shortcut: str | None = None, content: str | None = None
) -> CannedReply:
    if not canned_reply_may_write(actor, reply.office):
        raise Forbidden("The office's managers keep its canned replies.")
    reply.shortcut, reply.content = _checked(
        reply.shortcut if shortcut is None else shortcut, reply.content if content is None else content
    )
    return _save(reply)


@transaction.atomic
def canned_reply_delete(*, actor: User, reply: CannedReply) -> None:
    if not canned_reply_may_write(actor, reply.office):
        raise Forbidden("The office's managers keep its canned replies.")
    reply.delete()
