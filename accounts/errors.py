"""Error codes of accounts: sign-in, tokens' owners, people and their roles."""

from core.errors import ErrorCode


class AccountErrorCode(ErrorCode):
    """Sign-in, sign-up, passwords, users and roles."""

    INVALID_CREDENTIALS = "invalid_credentials", "Email or password is wrong"
    LOGIN_LOCKED = "login_locked", "Too many failed sign-ins: wait `details.retry_after` seconds"
    WEAK_PASSWORD = "weak_password", "The password is too weak (`details.password` says why)"
    WRONG_PASSWORD = "wrong_password", "The current password is wrong"
    RESET_CODE_INVALID = "reset_code_invalid", "The password reset code is wrong, used or expired"
    EMAIL_TAKEN = "email_taken", "An account with this email already exists"
    OFFICE_REQUIRED = "office_required", "Staff must belong to an office"
    OTHER_OFFICE = "other_office", "Managers act in their own office only"
    ROLE_TOO_HIGH = "role_too_high", "You cannot give this role"
    CAP_FOR_CONSULTANTS = "max_open_leads_consultants_only", "Only consultants take a cap on open leads"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured", "This social sign-in provider is not set up"
    INVALID_CODE = "invalid_code", "The social sign-in code is wrong, used or expired"
    INVALID_EMAIL = "invalid_email", "A new address whose part before the @ is not ASCII (accounts/emails.py)"
