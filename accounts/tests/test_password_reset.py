"""Forgotten passwords over the API: 202 whatever the email, a single-use expiring code by email, and
a reset that ends every session (refresh and access tokens, open sockets)."""

import re
import time
from datetime import datetime, timedelta
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from core.tests.live_server import free_port

pytestmark = pytest.mark.django_db

NEW = "Brand-new-Passphrase-9"


def ask(api_client, email, address="192.0.2.1"):
    return api_client.post("/api/v1/auth/password/reset", {"email": email}, REMOTE_ADDR=address)


def confirm(api_client, code, password=NEW):
    return api_client.post("/api/v1/auth/password/reset/confirm", {"code": code, "new_password": password})


def code_in(body: str) -> str:
    found = re.search(r"paste this code in the app: (\S+)", body)
    assert found is not None, body
    return found.group(1)


def test_the_answer_is_the_same_whether_or_not_the_account_exists(api_client, consultant):
    inactive = UserFactory(email="gone@example.com", is_active=False)
    answers = [ask(api_client, email) for email in (consultant.email.upper(), "nobody@example.com", inactive.email)]
    assert {(a.status_code, a.content) for a in answers} == {(202, b"")}
    assert [m.to for m in mail.outbox] == [[consultant.email]]
    message = mail.outbox[0]
    code = code_in(message.body)
    assert f"/auth/reset-password#code={code}" in message.body  # in the fragment: never sent to a server
    assert "60 minutes" in message.body


def test_the_code_sets_the_password_once_and_ends_every_session(api_client, client_for, consultant):
    tokens = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}).json()
    ask(api_client, consultant.email)
    code = code_in(mail.outbox[0].body)

    assert confirm(api_client, code).status_code == 204
    me = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.status_code == 401 and me.json()["error"]["code"] == "token_invalid"
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert refreshed.status_code == 401 and refreshed.json()["error"]["code"] == "token_invalid"
    assert api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}).status_code == 401
    assert api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": NEW}).status_code == 200

    again = confirm(api_client, code, "Yet-another-Passphrase-1")
    assert again.status_code == 400 and again.json()["error"]["code"] == "reset_code_invalid"


def test_the_code_expires(api_client, consultant, settings):
    ask(api_client, consultant.email)
    code = code_in(mail.outbox[0].body)
    # naive, as Django's PasswordResetTokenGenerator._now is
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)  # noqa: DTZ005
    with mock.patch("django.contrib.auth.tokens.PasswordResetTokenGenerator._now", return_value=later):
        expired = confirm(api_client, code)
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "reset_code_invalid"
    assert User.objects.get(pk=consultant.pk).check_password(PASSWORD)


def test_a_weak_password_is_refused_and_the_code_still_works(api_client, consultant):
    ask(api_client, consultant.email)
    code = code_in(mail.outbox[0].body)
    weak = confirm(api_client, code, "123")
    assert weak.status_code == 400 and weak.json()["error"]["code"] == "weak_password"
    assert confirm(api_client, code).status_code == 204


@pytest.mark.parametrize(
    "code",
    [
        "",
        "x",
        "MQ.nope",
        "Kg.abc-def",
        "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ.ab-cd",
        "." * 150,
        "\x00\x01",
        "MQ" + "." * 199,
    ],
)
def test_bad_codes_are_a_400_not_a_500(api_client, consultant, code):
    response = confirm(api_client, code)
    assert response.status_code == 400 and response.json()["error"]["code"] in (
        "reset_code_invalid",
        "validation_error",
    )


def test_one_users_code_does_not_reset_another(api_client, consultant, receptionist):
    ask(api_client, consultant.email)
    _uid, token = code_in(mail.outbox[0].body).split(".", 1)

    forged = f"{urlsafe_base64_encode(force_bytes(receptionist.pk))}.{token}"
    assert confirm(api_client, forged).status_code == 400
    assert User.objects.get(pk=receptionist.pk).check_password(PASSWORD)


def test_asking_is_throttled_per_email(api_client, consultant):
    answers = [ask(api_client, consultant.email, address=f"192.0.2.{n}").status_code for n in range(6)]
    assert answers == [202] * 5 + [429]
    assert len(mail.outbox) == 5


def test_a_mail_server_that_is_down_changes_nothing_the_caller_sees(api_client, consultant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    known, unknown = ask(api_client, consultant.email), ask(api_client, "nobody@example.com")
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content) == (202, b"")


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


def test_a_real_smtp_server_receives_the_code_and_it_works_once(api_client, consultant, settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        assert ask(api_client, consultant.email).status_code == 202
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        controller.stop()
    [(recipients, raw)] = inbox.messages
    assert recipients == [consultant.email] and "Subject: Reset your password" in raw
    code = code_in(raw.replace("=\r\n", "").replace("\r\n", "\n"))
    assert confirm(api_client, code).status_code == 204
    assert confirm(api_client, code, "Yet-another-Passphrase-1").status_code == 400
    assert api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": NEW}).status_code == 200


@pytest.mark.parametrize("fallbacks, works", [(True, True), (False, False)])
def test_a_secret_key_rotation_keeps_codes_working_while_the_old_key_is_a_fallback(
    api_client, consultant, settings, fallbacks, works
):
    ask(api_client, consultant.email)
    code = code_in(mail.outbox[0].body)
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-of-enough-length-0123456789abcdef"
    settings.SECRET_KEY_FALLBACKS = [old] if fallbacks else []
    assert (confirm(api_client, code).status_code == 204) is works
