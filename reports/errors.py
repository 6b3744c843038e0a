from core.errors import ErrorCode


class ReportErrorCode(ErrorCode):
    INVALID_DATE_RANGE = "invalid_date_range"
