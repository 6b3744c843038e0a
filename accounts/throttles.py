"""Login throttles: per account (the email tried) and per client address, counted like every
other API limit (`core.throttling`: atomic Redis counters, in process memory while Redis is down).

The address is REMOTE_ADDR as core.edge decided it (REST_FRAMEWORK NUM_PROXIES = 0: DRF's own
get_ident would otherwise believe any X-Forwarded-For).
"""

from rest_framework.throttling import SimpleRateThrottle

from accounts.emails import canonical_email
from core.throttling import SlidingWindowThrottle


class LoginAccountThrottle(SlidingWindowThrottle, SimpleRateThrottle):
    scope = "login_account"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": canonical_email(email)[:254]}


class LoginAddressThrottle(SlidingWindowThrottle, SimpleRateThrottle):
    scope = "login_address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PasswordResetThrottle(LoginAccountThrottle):
    """Reset emails per address asked for: nobody's mailbox gets flooded."""

    scope = "password_reset"
