"""Brute force against password sign-in: the console's login form and the API share one lockout
(django-axes), per account and per address, and the lockout tells nobody whether an account exists."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from accounts.tests.factories import PASSWORD, ConsultantFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"


def admin_login(client, email, password, address="192.0.2.10"):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_thirty_wrong_passwords_through_the_admin_form_lock_the_account(client, manager, settings):
    answers = [admin_login(client, manager.email, f"guess-{n}").status_code for n in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert answers[limit - 1 :] == [429] * (30 - limit + 1)
    right = admin_login(client, manager.email, PASSWORD)
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert not signed_in(client)
    # from another address the account is still locked: the lock is on the account too
    assert admin_login(client, manager.email, PASSWORD, address="198.51.100.1").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert admin_login(client, manager.email, PASSWORD).status_code == 302 and signed_in(client)
    assert not AccessAttempt.objects.filter(username=manager.email).exists()  # reset on success


def test_the_lockout_looks_the_same_for_an_account_that_does_not_exist(client, manager, settings):
    pages = {}
    for email, address in ((manager.email, "192.0.2.1"), ("nobody@example.com", "192.0.2.2")):
        for n in range(settings.AXES_FAILURE_LIMIT):
            admin_login(client, email, f"guess-{n}", address=address)
        locked = admin_login(client, email, "another", address=address)
        pages[email] = (locked.status_code, locked.content)
    assert pages[manager.email] == pages["nobody@example.com"]
    assert pages[manager.email][0] == 429 and LOCKED.encode() in pages[manager.email][1]
    assert manager.email.encode() not in pages[manager.email][1]


def test_one_address_is_locked_out_whatever_accounts_it_tries(client, office, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, f"guess{n}@example.com", "x", address="203.0.113.5")
    staff = ConsultantFactory(office=office)
    assert admin_login(client, staff.email, PASSWORD, address="203.0.113.5").status_code == 429
    assert admin_login(client, staff.email, PASSWORD, address="203.0.113.6").status_code == 302


def test_a_sign_in_of_ones_own_does_not_clear_the_guesses_at_someone_else(client, manager, office, settings):
    insider = ConsultantFactory(office=office)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, manager.email, f"guess-{n}", address="192.0.2.50")
    assert admin_login(client, insider.email, PASSWORD, address="192.0.2.50").status_code == 302
    client.logout()
    # one more guess at the manager, from anywhere, locks the manager's account
    assert admin_login(client, manager.email, "guess-last", address="192.0.2.99").status_code == 429
    # while the insider's own mistakes were cleared by their sign-in
    assert admin_login(client, manager.email, PASSWORD, address="192.0.2.77").status_code == 429


def test_a_success_clears_the_accounts_own_failures(client, manager, settings):
    for _ in range(2):
        for n in range(settings.AXES_FAILURE_LIMIT - 1):
            admin_login(client, manager.email, f"typo-{n}")
        assert admin_login(client, manager.email, PASSWORD).status_code == 302
        client.logout()


def test_the_api_login_counts_with_the_console_and_answers_429_in_the_one_shape(client, api_client, manager, settings):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, manager.email, f"guess-{n}", address="192.0.2.10")
    tenth = api_client.post(
        "/api/v1/auth/login", {"email": manager.email.upper(), "password": "nope"}, REMOTE_ADDR="192.0.2.11"
    )
    assert tenth.status_code == 429  # the limit reached, counted whatever the case of the email
    locked = api_client.post(
        "/api/v1/auth/login", {"email": manager.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.12"
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked" and LOCKED in locked.json()["error"]["message"]
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    ghost = api_client.post(
        "/api/v1/auth/login", {"email": "ghost@example.com", "password": "x"}, REMOTE_ADDR="192.0.2.13"
    )
    assert ghost.status_code == 401
    assert admin_login(client, manager.email, PASSWORD, address="192.0.2.14").status_code == 429


def test_an_api_login_clears_the_accounts_failures(api_client, consultant, settings):
    for n in range(4):  # under the API's own per-minute limit
        api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": f"x{n}"})
    assert AccessAttempt.objects.filter(username=consultant.email).exists()
    ok = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD})
    assert ok.status_code == 200
    assert not AccessAttempt.objects.filter(username=consultant.email).exists()
    consultant.refresh_from_db()
    assert consultant.last_login is not None


def test_the_super_admin_sees_the_recorded_attempts_and_a_manager_does_not(client, super_admin, manager):
    admin_login(client, "someone@example.com", "wrong")
    client.force_login(super_admin)
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "someone@example.com" in page.content.decode()
    client.force_login(manager)
    assert client.get("/admin/axes/accessattempt/").status_code == 403
