"""The current-password check of a signed-in user (`POST auth/password`, the console's "Change
password") counts its wrong guesses on the sign-in lockout, per account and per address: a stolen
access token or console page is not a password oracle. A locked account's check is refused whatever
the password, and a password reset lifts the lock (the victim's way back in)."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from accounts.tests.factories import PASSWORD
from accounts.tests.test_lockout import LOCKED, admin_login

pytestmark = pytest.mark.django_db

NEW = "Brand-new-Passphrase-9"


def api_change(client, old, new=NEW, address="192.0.2.30"):
    return client.post("/api/v1/auth/password", {"old_password": old, "new_password": new}, REMOTE_ADDR=address)


def console_change(client, old, new=NEW, address="192.0.2.31"):
    return client.post(
        "/admin/password_change/",
        {"old_password": old, "new_password1": new, "new_password2": new},
        REMOTE_ADDR=address,
    )


def password_is(user, password) -> bool:
    return User.objects.get(pk=user.pk).check_password(password)


def test_wrong_current_passwords_over_the_api_lock_the_check(client_for, consultant, settings):
    api = client_for(consultant)
    limit = settings.AXES_FAILURE_LIMIT
    answers = [api_change(api, f"guess-{n}", address=f"192.0.2.{n + 1}") for n in range(limit + 5)]
    codes = [(a.status_code, a.json()["error"]["code"]) for a in answers]
    assert codes[: limit - 1] == [(400, "wrong_password")] * (limit - 1)
    assert codes[limit - 1 :] == [(429, "login_locked")] * 6
    assert LOCKED in answers[-1].json()["error"]["message"]
    assert int(answers[-1]["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()

    right = api_change(api, PASSWORD, address="198.51.100.2")
    assert right.status_code == 429 and right.json()["error"]["code"] == "login_locked"
    assert password_is(consultant, PASSWORD)  # unchanged
    # the same lock as sign-in: the account's password sign-in is locked too, from anywhere
    signed_in = client_for(consultant).post(
        "/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}, REMOTE_ADDR="198.51.100.3"
    )
    assert signed_in.status_code == 429


def test_wrong_current_passwords_in_the_console_lock_the_check(manager, settings):
    browser = Client()
    browser.force_login(manager)
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        page = console_change(browser, f"guess-{n}", address=f"192.0.2.{n + 1}")
        assert page.status_code == 200 and "old password was entered incorrectly" in page.content.decode()
    last = console_change(browser, "guess-last", address="192.0.2.200")
    assert last.status_code == 429 and LOCKED in last.content.decode()
    right = console_change(browser, PASSWORD, address="198.51.100.4")
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert password_is(manager, PASSWORD)
    assert admin_login(Client(), manager.email, PASSWORD, address="198.51.100.5").status_code == 429


def test_console_and_api_guesses_add_up(client_for, manager, settings):
    browser = Client()
    browser.force_login(manager)
    half = settings.AXES_FAILURE_LIMIT // 2
    for n in range(half):
        console_change(browser, f"guess-{n}", address=f"192.0.2.{n + 1}")
    api = client_for(manager)
    answers = [
        api_change(api, f"guess-{n}", address=f"192.0.2.{n + 50}").status_code
        for n in range(settings.AXES_FAILURE_LIMIT - half)
    ]
    assert answers[-1] == 429


def test_the_right_current_password_still_changes_it(client_for, consultant, settings):
    api = client_for(consultant)
    for n in range(settings.AXES_FAILURE_LIMIT - 2):
        assert api_change(api, f"guess-{n}", address=f"192.0.2.{n + 1}").status_code == 400
    assert api_change(api, PASSWORD).status_code == 200
    assert password_is(consultant, NEW)


def test_a_password_reset_lifts_the_lock(api_client, consultant, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(Client(), consultant.email, f"guess-{n}", address="203.0.113.9")
    login = {"email": consultant.email, "password": PASSWORD}
    assert api_client.post("/api/v1/auth/login", login, REMOTE_ADDR="198.51.100.6").status_code == 429

    api_client.post("/api/v1/auth/password/reset", {"email": consultant.email}, REMOTE_ADDR="198.51.100.6")
    code = re.search(r"paste this code in the app: (\S+)", mail.outbox[0].body).group(1)
    done = api_client.post(
        "/api/v1/auth/password/reset/confirm", {"code": code, "new_password": NEW}, REMOTE_ADDR="198.51.100.6"
    )
    assert done.status_code == 204
    signed_in = api_client.post(
        "/api/v1/auth/login", {"email": consultant.email, "password": NEW}, REMOTE_ADDR="198.51.100.7"
    )
    assert signed_in.status_code == 200, signed_in.content
    # the guesser's address stays locked: the reset lifts the account's lock, not the attacker's
    assert admin_login(Client(), consultant.email, NEW, address="203.0.113.9").status_code == 429
