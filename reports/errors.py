"""Error codes of reports."""

from core.errors import ErrorCode


class ReportErrorCode(ErrorCode):
    """Reports."""

    INVALID_DATE_RANGE = "invalid_date_range", "date_from is after date_to, or the range is over a year"
