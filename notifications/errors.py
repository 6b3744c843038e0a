"""Error codes of notifications and announcements."""

from core.errors import ErrorCode


class NotificationErrorCode(ErrorCode):
    """Notifications and announcements."""

    OTHER_OFFICE = "other_office", "Managers announce to their own office"
    TITLE_REQUIRED = "title_required", "An announcement needs a title"
    INVALID_PREFERENCES = "invalid_preferences", "The notification preferences are not valid (`details`)"
