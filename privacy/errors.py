from core.errors import ErrorCode


class PrivacyErrorCode(ErrorCode):
    CANNOT_ERASE_SELF = "cannot_erase_self"
    LAST_SUPER_ADMIN = "last_super_admin"
    LEGAL_HOLD = "legal_hold"
    ALREADY_ERASED = "already_erased"
    EXPORT_NOT_READY = "export_not_ready"
    EXPORT_LINK_EXPIRED = "export_link_expired"
