"""Error codes of messaging (the registry's convention: core.errors.ErrorCode)."""

from core.errors import ErrorCode


class MessagingErrorCode(ErrorCode):
    INVALID_SNOOZE = "invalid_snooze"  # snoozed without a time to come back, or a time already past
    STAFF_ONLY = "staff_only"  # triage and canned replies are the staff's
    SHORTCUT_TAKEN = "shortcut_taken"  # 409: the office already has a canned reply with this shortcut
