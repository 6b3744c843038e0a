"""Brute-force lockout of password sign-in (django-axes), for every door that checks a password:
the staff console's login form and `POST auth/login` (allauth's password login is off).

LOGIN_FAILURE_LIMIT failures within LOGIN_LOCKOUT_MINUTES lock the account tried, and separately
the address they came from (core.edge decides it), whether or not the account exists: the
lockout answer is the same for both, so it tells nobody which emails have accounts.
"""

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import render

LOCKED_MESSAGE = "Too many failed sign-in attempts. Try again in {minutes} minutes."


def username(request, credentials) -> str | None:
    """The email tried, the same however a door names it (admin form: username; API and allauth: email)."""
    values = credentials or getattr(request, "data", None) or request.POST
    value = (values.get("email") or values.get("username")) if hasattr(values, "get") else None
    return value.strip().lower()[:254] if isinstance(value, str) and value.strip() else None


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


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
