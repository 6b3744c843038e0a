"""Error codes of appointments (the registry's convention: core.errors.ErrorCode)."""

from core.errors import ErrorCode


class AppointmentErrorCode(ErrorCode):
    # 409: the office is closed then; staff may book anyway with `allow_outside_hours`, students may not.
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    TOO_MANY_CONSULTANTS = "too_many_consultants"  # free slots of more consultants than one request may ask
    INVALID_DATE_RANGE = "invalid_date_range"  # free slots: date_to before date_from, or too long a range
