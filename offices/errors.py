"""Error codes of offices."""

from core.errors import ErrorCode


class OfficeErrorCode(ErrorCode):
    """Offices."""

    OFFICE_NAME_TAKEN = "office_name_taken", "An office with this name already exists"
    OFFICE_IN_USE = "office_in_use", "The office still has people or records: deactivate it instead"
    INVALID_OPENING_HOURS = "invalid_opening_hours", "A weekday twice, closing before opening, a weekday not 1-7"
    INVALID_CLOSED_DAYS = "invalid_closed_days", "A date twice"
