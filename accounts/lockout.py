"""Brute-force lockout of password checks (django-axes), for every door that checks a password:
the staff console's login form and `POST auth/login` (allauth's password login is off), and the
current-password check before a change (`POST auth/password`, the console's "Change password").

LOGIN_FAILURE_LIMIT failures within LOGIN_LOCKOUT_MINUTES lock the account tried, and separately
the address they came from (core.edge decides it), whether or not the account exists: the
lockout answer is the same for both, so it tells nobody which emails have accounts.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render

from accounts.emails import canonical_email
from accounts.errors import AccountErrorCode
from core.errors import RateLimited

LOCKED_MESSAGE = "Too many failed sign-in attempts. Try again in {minutes} minutes."


def username(request, credentials) -> str | None:
    """The email tried, the same however a door names it (admin form: username; API and allauth: email),
    in the canonical form the sign-in lookup uses: one account, one counter (accounts/emails.py)."""
    values = credentials or getattr(request, "data", None) or request.POST
    value = (values.get("email") or values.get("username")) if hasattr(values, "get") else None
    return canonical_email(value)[:254] if isinstance(value, str) and value.strip() else None


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def locked_error() -> RateLimited:
    """The API's answer to a locked check: 429 `login_locked`, with Retry-After."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    return RateLimited(locked_message(), code=AccountErrorCode.LOGIN_LOCKED, details={"retry_after": seconds})


def current_password_matches(request, *, user, password: str) -> bool:
    """A signed-in user's current password, asked again before a change. Each wrong guess counts as a
    failed sign-in of the account, and of the address, so a stolen access token or an open console
    page is no password oracle; a locked check raises `locked_error()` whatever the password.

    Without a request (a shell, a command) there is no client to count against, as for sign-in.
    Called outside any transaction: a failure recorded inside one would roll back with the refusal."""
    if request is None:
        return user.check_password(password)
    credentials = {"username": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials):
        raise locked_error()
    if user.check_password(password):
        return True
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):  # this guess reached the limit
        raise locked_error()
    return False


def lock_lift(*, user) -> int:
    """A password reset proves the owner holds the mailbox: their account's failures (and so its lock)
    stop counting. The records stay, without the account, so the addresses that guessed stay locked
    for their own cool-off. Returns how many records were let go."""
    return AccessAttempt.objects.filter(username=canonical_email(user.email)).update(username=None)


def lockout_response(request, original_response=None, credentials=None):
    """The console's answer to a locked sign-in: its own page, 429, no hint whether the account exists."""
    return render(
        request, "accounts/login_locked.html", {"message": locked_message(), "title": "Sign-in locked"}, status=429
    )


class LockoutBackend(AxesStandaloneBackend):
    """axes' backend, for sign-ins through a door (an HTTP request). Without one (the test client's
    login(), a shell) there is no client to lock out, and axes' own backend would raise."""

    def authenticate(self, request=None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class LoginFailures(AxesDatabaseHandler):
    """axes' database handler, but a successful sign-in clears only that account's failures. axes'
    own reset also clears every failure recorded from the address, so anyone with an account of
    their own could clear the count of their guesses at someone else's by signing in between them."""

    def reset_user_attempts(self, request, credentials=None) -> int:
        count, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return count
