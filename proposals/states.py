"""A proposal's statuses and moves: pure rules, no queries and no clock of their own (the caller passes
`now`), as `messaging/socket/ordering.py`."""

from __future__ import annotations

from datetime import datetime

from django.db import models


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


FINAL = frozenset({ProposalStatus.ACCEPTED, ProposalStatus.DECLINED, ProposalStatus.EXPIRED})
MOVES = {
    ProposalStatus.DRAFT: frozenset({ProposalStatus.SENT}),
    ProposalStatus.SENT: frozenset({ProposalStatus.ACCEPTED, ProposalStatus.DECLINED, ProposalStatus.EXPIRED}),
}


def effective_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    """What a proposal is now: a sent one past its expiry is expired even before the job marks it."""
    if status == ProposalStatus.SENT and expires_at is not None and expires_at <= now:
        return ProposalStatus.EXPIRED
    return status


def may_move(status: str, to: str) -> bool:
    return to in MOVES.get(ProposalStatus(status), frozenset())
