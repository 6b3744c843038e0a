from core.errors import ErrorCode


class NotificationErrorCode(ErrorCode):
    INVALID_PREFERENCES = "invalid_preferences"
