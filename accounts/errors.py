"""Error codes of the accounts area (the registry's convention: core.errors.ErrorCode)."""

from core.errors import ErrorCode


class AccountErrorCode(ErrorCode):
    INVALID_EMAIL = "invalid_email"  # a new address whose part before the @ is not ASCII (accounts/emails.py)
