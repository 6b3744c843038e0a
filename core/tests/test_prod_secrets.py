"""Production refuses mail that delivers nothing (a reset code in the log, or a locked-out user with no
way back in) and a JWT signing key weaker than SECRET_KEY must be."""

import pytest

from core.tests.test_settings import PROD_ENV, manage


@pytest.mark.parametrize("email_url", ["console:", "dummy:", "file:///tmp/crm-mail", "memory:"])
def test_production_refuses_mail_that_delivers_nothing(email_url):
    result = manage("check", env={**PROD_ENV, "EMAIL_URL": email_url})
    assert result.returncode != 0 and "EMAIL_URL must point at an SMTP server" in result.stderr


@pytest.mark.parametrize("email_url", ["submission://crm:secret@smtp.example.com:587", "smtp://relay.internal:25"])
def test_production_accepts_smtp(email_url):
    result = manage("check", env={**PROD_ENV, "EMAIL_URL": email_url})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("secret", ["abc", "x" * 49, "dev-insecure-secret-key-change-me-0123456789abcdef-more"])
def test_production_refuses_a_weak_jwt_secret(secret):
    result = manage("check", env={**PROD_ENV, "JWT_SECRET": secret})
    assert result.returncode != 0 and "JWT_SECRET must be set to a random value of at least 50" in result.stderr


@pytest.mark.parametrize("secret", ["", "J" * 20 + "r4Qp8Zx2Lm6Vb0Nc9Ws3Ed7Tg1Yh5Uj2Ik8Ol"])
def test_production_accepts_a_strong_or_unset_jwt_secret(secret):
    """Unset (empty, as in .env.example) is SECRET_KEY, which passed the same rule."""
    result = manage("check", env={**PROD_ENV, "JWT_SECRET": secret})
    assert result.returncode == 0, result.stderr
