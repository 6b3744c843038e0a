"""Error codes of offices (the registry's convention: core.errors.ErrorCode)."""

from core.errors import ErrorCode


class OfficeErrorCode(ErrorCode):
    INVALID_OPENING_HOURS = "invalid_opening_hours"  # a weekday twice, closing before opening, a weekday not 1-7
    INVALID_CLOSED_DAYS = "invalid_closed_days"  # a date twice
