"""Look-alike letters in an email (U+0131 dotless i, U+017F long s, U+212A the Kelvin sign) name the same
account everywhere or nowhere: the sign-in lookup, the lockout's counter, the login and reset
throttles and the reset lookup all use one canonical form (accounts/emails.py), so a look-alike gets
no guesses of its own at the real account, never signs into it, and never clears its failures."""

from importlib import import_module

import pytest
from axes.models import AccessAttempt
from django.apps import apps as django_apps
from django.core import mail

from accounts.emails import canonical_email
from accounts.models import User
from accounts.tests.factories import PASSWORD, ReceptionistFactory, StudentFactory
from accounts.tests.test_lockout import admin_login
from leads.models import Lead
from leads.services import lead_create
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

REAL = "reception.london@example.com"
DOTLESS = "recept\u0131on.london@example.com"  # PostgreSQL's UPPER() makes the dotless i an I
SARA = "sara.silva@example.com"
SARA_LONG_S = "\u017fara.\u017filva@example.com"  # the long s folds to s: the same address


def api_login(api_client, email, password, address="192.0.2.20"):
    return api_client.post("/api/v1/auth/login", {"email": email, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def reception(office):
    return ReceptionistFactory(office=office, email=REAL)


@pytest.fixture
def sara(office):
    return ReceptionistFactory(office=office, email=SARA)


def test_canonical_form():
    assert canonical_email("  Reception.London@Example.COM ") == REAL
    assert canonical_email(SARA_LONG_S) == SARA
    assert canonical_email("\u212aate@example.com") == "kate@example.com"  # the Kelvin sign: just a K
    assert canonical_email("\uff33\uff21\uff32\uff21@example.com") == "sara@example.com"  # full-width letters
    assert canonical_email(DOTLESS) != REAL  # a different address, not a spelling of this one


def test_a_look_alike_never_signs_in_to_the_locked_account(client, api_client, reception, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, REAL, f"guess-{n}", address=f"192.0.2.{n + 1}")
    assert api_login(api_client, REAL, PASSWORD).status_code == 429  # locked

    through_api = api_login(api_client, DOTLESS, PASSWORD, address="198.51.100.7")
    assert through_api.status_code == 401, through_api.content  # no account has this address
    through_console = admin_login(client, DOTLESS, PASSWORD, address="198.51.100.8")
    assert through_console.status_code == 200  # the form again: not signed in
    assert client.get("/admin/").status_code == 302
    assert api_login(api_client, REAL, PASSWORD, address="198.51.100.9").status_code == 429  # still locked


def test_a_success_through_a_look_alike_does_not_clear_the_real_accounts_failures(
    client, api_client, reception, settings
):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, REAL, f"guess-{n}", address=f"192.0.2.{n + 1}")
    assert api_login(api_client, DOTLESS, PASSWORD, address="198.51.100.7").status_code == 401
    assert AccessAttempt.objects.filter(username=REAL).count() == settings.AXES_FAILURE_LIMIT - 1
    # one more guess at the real account locks it, as if the look-alike had never been tried
    assert admin_login(client, REAL, "guess-last", address="198.51.100.8").status_code == 429
    assert api_login(api_client, REAL, PASSWORD, address="198.51.100.9").status_code == 429


def test_a_folded_look_alike_counts_on_the_same_accounts_lock(client, api_client, sara, settings):
    half = settings.AXES_FAILURE_LIMIT // 2
    for n in range(half):
        admin_login(client, SARA, f"guess-{n}", address=f"192.0.2.{n + 1}")
    for n in range(settings.AXES_FAILURE_LIMIT - half):  # (the console's form applies NFKC itself; the API did not)
        assert api_login(api_client, SARA_LONG_S, f"guess-{n}", address=f"192.0.2.{n + 100}").status_code in (401, 429)
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {SARA}
    assert admin_login(client, SARA.upper(), PASSWORD, address="198.51.100.3").status_code == 429


def test_a_folded_look_alike_shares_the_per_account_login_throttle(api_client, sara):
    answers = [api_login(api_client, SARA, f"x{n}", address=f"192.0.2.{n + 1}").status_code for n in range(5)]
    assert answers == [401] * 5
    again = api_login(api_client, SARA_LONG_S, "x", address="192.0.2.99")
    assert again.status_code == 429 and again.json()["error"]["code"] == "throttled"


def test_the_folded_spelling_signs_in_to_the_same_account(api_client, sara):
    signed_in = api_login(api_client, SARA_LONG_S, PASSWORD)
    assert signed_in.status_code == 200 and signed_in.json()["user"]["id"] == sara.pk


def test_a_reset_for_a_look_alike_reaches_nobody_and_folded_spellings_share_the_throttle(api_client, reception, sara):
    assert api_client.post("/api/v1/auth/password/reset", {"email": DOTLESS}).status_code == 202
    assert mail.outbox == []  # UPPER() would have found the real account
    for spelling in (SARA, SARA_LONG_S, SARA.upper(), SARA, SARA_LONG_S):
        assert api_client.post("/api/v1/auth/password/reset", {"email": spelling}).status_code == 202
    assert [m.to for m in mail.outbox] == [[SARA]] * 5
    assert api_client.post("/api/v1/auth/password/reset", {"email": SARA_LONG_S}).status_code == 429


# Django's validator refuses most non-ASCII local parts (validation_error); matching case-insensitively
# it lets the dotless i, the long s and the Kelvin sign through. The last two fold to ASCII (s, k: the
# same address as typed with them); the dotless i does not, and the service refuses it (invalid_email).
@pytest.mark.parametrize(
    ("email", "code"),
    [(DOTLESS, "invalid_email"), ("ann\u00e9e@example.com", "validation_error")],
)
def test_new_addresses_need_an_ascii_local_part(api_client, client_for, manager, email, code):
    signup = api_client.post(
        "/api/v1/auth/signup",
        {"email": email, "password": "Str0ng-pass-phrase", "first_name": "A", "last_name": "B"},
        format="json",
    )
    assert signup.status_code == 400 and signup.json()["error"]["code"] == code, signup.content
    created = client_for(manager).post(
        "/api/v1/users",
        {"email": email, "password": "Str0ng-pass-phrase", "role": "consultant"},
        format="json",
    )
    assert created.status_code == 400 and created.json()["error"]["code"] == code


def test_an_international_domain_is_welcome(api_client):
    signup = api_client.post(
        "/api/v1/auth/signup",
        {"email": "Ana@Bücher.Example", "password": "Str0ng-pass-phrase", "first_name": "A", "last_name": "B"},
        format="json",
    )
    assert signup.status_code == 201, signup.content
    assert signup.json()["user"]["email"] == "ana@bücher.example"
    assert api_login(api_client, "ANA@BÜCHER.EXAMPLE", "Str0ng-pass-phrase").status_code == 200


def test_a_look_alike_cannot_take_an_address_already_taken(api_client, sara):
    signup = api_client.post(
        "/api/v1/auth/signup",
        {"email": SARA_LONG_S, "password": "Str0ng-pass-phrase", "first_name": "A", "last_name": "B"},
        format="json",
    )
    assert signup.status_code == 409 and signup.json()["error"]["code"] == "email_taken"


def test_stored_addresses_are_canonical_whatever_door_saved_them(office):
    student = StudentFactory(email="  \uff33tudent.One@Example.COM ")
    assert student.email == "student.one@example.com"


def migrate_emails():
    migration = import_module("accounts.migrations.0003_canonical_emails")
    migration.canonical_stored_emails(django_apps, None)
    return migration


def test_the_migration_keeps_existing_accounts_signing_in(api_client, sara, office):
    User.objects.filter(pk=sara.pk).update(email=SARA_LONG_S)  # stored before canonical forms
    kelvin = ReceptionistFactory(office=office)
    User.objects.filter(pk=kelvin.pk).update(email="\u212aate@example.com")
    plain = ReceptionistFactory(office=office, email="plain@example.com")
    migrate_emails()
    assert User.objects.get(pk=sara.pk).email == SARA
    assert User.objects.get(pk=kelvin.pk).email == "kate@example.com"
    assert User.objects.get(pk=plain.pk).email == "plain@example.com"
    for email in (SARA_LONG_S, SARA, "KATE@example.com", "\u212aate@example.com"):
        assert api_login(api_client, email, PASSWORD, address=f"192.0.2.{len(email)}").status_code == 200, email


def test_the_migration_stops_on_one_address_in_two_spellings(sara, office):
    twin = ReceptionistFactory(office=office)
    User.objects.filter(pk=twin.pk).update(email=SARA_LONG_S)
    migration = import_module("accounts.migrations.0003_canonical_emails")
    with pytest.raises(migration.SameAddressTwice, match=f"Users {sara.pk} and {twin.pk}"):
        migration.canonical_stored_emails(django_apps, None)


def test_lead_emails_are_canonical_and_link_only_their_own_student(office, manager):
    lead = LeadFactory(office=office)
    Lead.objects.filter(pk=lead.pk).update(email="\uff33ara.Silva@example.com")  # a full-width S, stored as typed
    import_module("leads.migrations.0006_canonical_lead_emails").canonical_lead_emails(django_apps, None)
    lead.refresh_from_db()
    assert lead.email == SARA

    ivy = StudentFactory(email="ivy.student@example.com", office=office)  # (staff link their own office's)
    look_alike = lead_create(actor=manager, first_name="Probe", email="\u0131vy.student@example.com")
    assert look_alike.student_id is None  # UPPER() would have linked Ivy
    folded = lead_create(actor=manager, first_name="Ivy", email="IVY.\u017ftudent@example.com")
    assert folded.email == ivy.email and folded.student_id == ivy.pk
