"""The status machine as pure code: no database, no clock."""

import itertools

import pytest

from applications.transitions import FINAL, OPEN, PATH, ApplicationStatus, Move, confirmation_for, next_statuses
from core.errors import Conflict, ValidationFailed

S = ApplicationStatus

# Every move the spec allows, and nothing else.
ALLOWED = {
    (S.DRAFT, S.SUBMITTED),
    (S.SUBMITTED, S.CONDITIONAL_OFFER),
    (S.SUBMITTED, S.UNCONDITIONAL_OFFER),
    (S.SUBMITTED, S.REJECTED),
    (S.CONDITIONAL_OFFER, S.UNCONDITIONAL_OFFER),
    (S.CONDITIONAL_OFFER, S.OFFER_ACCEPTED),
    (S.UNCONDITIONAL_OFFER, S.OFFER_ACCEPTED),
    (S.OFFER_ACCEPTED, S.DEPOSIT_PAID),
    (S.DEPOSIT_PAID, S.CONFIRMATION_ISSUED),
    (S.CONFIRMATION_ISSUED, S.VISA_APPLIED),
    (S.VISA_APPLIED, S.VISA_GRANTED),
    (S.VISA_APPLIED, S.VISA_REFUSED),
    (S.VISA_GRANTED, S.ENROLLED),
} | {(status, S.WITHDRAWN) for status in OPEN}


@pytest.mark.parametrize("current", S.values)
@pytest.mark.parametrize("to", S.values)
def test_every_pair_of_statuses(current, to):
    move = Move(current=current, to=to, reason="Because", conditions="IELTS 7.0 by July")
    if (current, to) in ALLOWED:
        move.check()
        assert to in next_statuses(current)
    else:
        with pytest.raises(Conflict) as refused:
            move.check()
        assert refused.value.code == "invalid_transition"
        assert refused.value.details["allowed"] == list(next_statuses(current))


def test_final_statuses_go_nowhere_and_say_so():
    assert {S.REJECTED, S.VISA_REFUSED, S.WITHDRAWN, S.ENROLLED} == FINAL
    for status in FINAL:
        assert next_statuses(status) == ()
    with pytest.raises(Conflict, match="a final status"):
        Move(current=S.ENROLLED, to=S.WITHDRAWN, reason="x").check()


@pytest.mark.parametrize(
    "to,current", [(S.REJECTED, S.SUBMITTED), (S.VISA_REFUSED, S.VISA_APPLIED), (S.WITHDRAWN, S.DRAFT)]
)
def test_refusals_and_withdrawals_need_a_reason(to, current):
    with pytest.raises(ValidationFailed) as refused:
        Move(current=current, to=to, reason="  ").check()
    assert refused.value.code == "reason_required"
    Move(current=current, to=to, reason="Visa quota reached").check()


def test_a_conditional_offer_says_its_conditions():
    with pytest.raises(ValidationFailed) as refused:
        Move(current=S.SUBMITTED, to=S.CONDITIONAL_OFFER).check()
    assert refused.value.code == "details_required"


def test_a_stale_view_is_a_conflict_even_when_the_move_is_still_possible():
    # Seen as submitted, but someone made it a conditional offer meanwhile: withdrawing is still a move,
    # but not the one the asker decided on.
    with pytest.raises(Conflict) as refused:
        Move(current=S.CONDITIONAL_OFFER, to=S.WITHDRAWN, reason="x", expected=S.SUBMITTED).check()
    assert refused.value.code == "stale_status"


def test_unknown_status():
    with pytest.raises(ValidationFailed) as refused:
        Move(current=S.DRAFT, to="accepted").check()
    assert refused.value.code == "unknown_status"


def test_the_path_reaches_enrolment_one_allowed_move_at_a_time():
    steps = [s for s in PATH if s != S.UNCONDITIONAL_OFFER]
    for current, to in itertools.pairwise(steps):
        assert (current, to) in ALLOWED


@pytest.mark.parametrize("country,kind", [("GB", "cas"), ("US", "i20"), ("AU", "coe"), ("CA", "loa"), ("DE", "loa")])
def test_the_confirmation_each_destination_issues(country, kind):
    assert confirmation_for(country) == kind
