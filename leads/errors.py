"""Error codes of leads (the registry's convention: core.errors.ErrorCode)."""

from core.errors import ErrorCode


class LeadErrorCode(ErrorCode):
    # 400: not a phone number anywhere, or a national number for a lead with no office (no country to read it in)
    INVALID_PHONE = "invalid_phone"
