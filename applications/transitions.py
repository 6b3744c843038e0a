"""An application's statuses and the moves between them, as pure code (no I/O, no clock): what a
move may go to, what it needs (a reason, an offer's conditions), tested without a database
(`tests/test_transitions.py`). The service (`services.application_transition`) asks this under the
row's lock; the database keeps one open application per (student, course, intake)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from applications.errors import ApplicationErrorCode
from core.errors import Conflict, ValidationFailed


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    CONDITIONAL_OFFER = "conditional_offer", "Conditional offer"
    UNCONDITIONAL_OFFER = "unconditional_offer", "Unconditional offer"
    REJECTED = "rejected", "Rejected"
    OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
    DEPOSIT_PAID = "deposit_paid", "Deposit paid"
    CONFIRMATION_ISSUED = "confirmation_issued", "Confirmation issued"
    VISA_APPLIED = "visa_applied", "Visa applied"
    VISA_GRANTED = "visa_granted", "Visa granted"
    VISA_REFUSED = "visa_refused", "Visa refused"
    ENROLLED = "enrolled", "Enrolled"
    WITHDRAWN = "withdrawn", "Withdrawn"


S = ApplicationStatus
FINAL: frozenset[str] = frozenset({S.REJECTED, S.VISA_REFUSED, S.WITHDRAWN, S.ENROLLED})
OPEN: tuple[str, ...] = tuple(s for s in S.values if s not in FINAL)
OFFERS: frozenset[str] = frozenset({S.CONDITIONAL_OFFER, S.UNCONDITIONAL_OFFER})
NEEDS_REASON: frozenset[str] = frozenset({S.REJECTED, S.VISA_REFUSED, S.WITHDRAWN})
# The road to enrolment, in order: the board's columns, the funnel, the median days between steps.
PATH: tuple[str, ...] = (
    S.DRAFT,
    S.SUBMITTED,
    S.CONDITIONAL_OFFER,
    S.UNCONDITIONAL_OFFER,
    S.OFFER_ACCEPTED,
    S.DEPOSIT_PAID,
    S.CONFIRMATION_ISSUED,
    S.VISA_APPLIED,
    S.VISA_GRANTED,
    S.ENROLLED,
)

_FORWARD: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.SUBMITTED,),
    S.SUBMITTED: (S.CONDITIONAL_OFFER, S.UNCONDITIONAL_OFFER, S.REJECTED),
    S.CONDITIONAL_OFFER: (S.UNCONDITIONAL_OFFER, S.OFFER_ACCEPTED),
    S.UNCONDITIONAL_OFFER: (S.OFFER_ACCEPTED,),
    S.OFFER_ACCEPTED: (S.DEPOSIT_PAID,),
    S.DEPOSIT_PAID: (S.CONFIRMATION_ISSUED,),
    S.CONFIRMATION_ISSUED: (S.VISA_APPLIED,),
    S.VISA_APPLIED: (S.VISA_GRANTED, S.VISA_REFUSED),
    S.VISA_GRANTED: (S.ENROLLED,),
}


def next_statuses(status: str) -> tuple[str, ...]:
    """Where an application in `status` may go: its forward moves, and `withdrawn` while it is open."""
    if status in FINAL:
        return ()
    return (*_FORWARD.get(status, ()), S.WITHDRAWN)


class Confirmation(models.TextChoices):
    """The document a university issues once the deposit is in, which the visa is applied with."""

    CAS = "cas", "CAS (UK)"
    I20 = "i20", "I-20 (US)"
    COE = "coe", "CoE (Australia)"
    LOA = "loa", "Letter of acceptance"


_CONFIRMATION_BY_COUNTRY = {"GB": Confirmation.CAS, "US": Confirmation.I20, "AU": Confirmation.COE}


def confirmation_for(country: str) -> str:
    """The confirmation a destination issues: CAS in the UK, I-20 in the US, CoE in Australia, else an LoA."""
    return _CONFIRMATION_BY_COUNTRY.get(country, Confirmation.LOA)


@dataclass(frozen=True)
class Move:
    """One asked-for move of one application, checked against its current status."""

    current: str
    to: str
    reason: str = ""
    expected: str | None = None  # the status the asker saw; another move in between is a conflict
    conditions: str = ""  # a conditional offer's conditions

    def check(self) -> None:
        if self.to not in ApplicationStatus.values:
            raise ValidationFailed(
                f"Unknown status {self.to!r}.", code=ApplicationErrorCode.UNKNOWN_STATUS, details={"to": self.to}
            )
        if self.expected is not None and self.expected != self.current:
            raise Conflict(
                f"The application moved to {self.current} meanwhile: look again before moving it.",
                code=ApplicationErrorCode.STALE_STATUS,
                details={"status": self.current, "expected": self.expected},
            )
        if self.to not in next_statuses(self.current):
            final = " (a final status)" if self.current in FINAL else ""
            raise Conflict(
                f"An application cannot go from {self.current}{final} to {self.to}.",
                code=ApplicationErrorCode.INVALID_TRANSITION,
                details={"from": self.current, "to": self.to, "allowed": list(next_statuses(self.current))},
            )
        if self.to in NEEDS_REASON and not self.reason.strip():
            raise ValidationFailed(
                f"Say why the application is {ApplicationStatus(self.to).label.lower()} (`note`).",
                code=ApplicationErrorCode.REASON_REQUIRED,
                details={"to": self.to},
            )
        if self.to == S.CONDITIONAL_OFFER and not self.conditions.strip():
            raise ValidationFailed(
                "A conditional offer says its conditions (`offer.conditions`).",
                code=ApplicationErrorCode.DETAILS_REQUIRED,
                details={"field": "offer.conditions"},
            )
