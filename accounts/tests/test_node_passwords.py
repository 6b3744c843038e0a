"""Users imported from the original Node product keep their bcrypt passwords: they sign in, and are
re-hashed with the preferred hasher at that moment. The hashes below were made by Node's bcryptjs."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from accounts.hashers import NodeBcryptPasswordHasher
from accounts.models import User
from accounts.tests.factories import StudentFactory
from core.tests.test_settings import ROOT

pytestmark = pytest.mark.django_db

NODE_2A = "$2a$10$znXAnAchUXIrwoueWFsuq.EF2VWDQTtnuHlUUuLOR.Pk8l5gty.8q"  # bcryptjs 2.4.3: "Node-Pass-2019"
NODE_2B = "$2b$10$PgsvT6ATamih691OOWrSeerSeVhKS5H.MOh5TtV2Cv0pceJkAT01."  # bcryptjs 3: "Node-Pass-2019"
NODE_LONG = "$2a$10$plxG.vwi4f4ghPTAssD7CO/aWbh3lf3NDQZtzpfUpGTGVjMO0cGzi"  # 72 x "x" + "tail-ignored"
PASSWORD = "Node-Pass-2019"


class FastPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 1000  # the same format; a million iterations would make each sign-in here cost a second


@pytest.fixture(autouse=True)
def real_hashers(settings):
    """The product's hashers (the test settings use a fast MD5 one), made cheap for speed."""
    settings.PASSWORD_HASHERS = [
        "accounts.tests.test_node_passwords.FastPBKDF2PasswordHasher",
        "accounts.hashers.NodeBcryptPasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]
    settings.BCRYPT_ROUNDS = 4


def imported(stored_hash: str) -> User:
    user = StudentFactory.create(email="imported@example.com")
    User.objects.filter(pk=user.pk).update(password=stored_hash)  # copied as-is from the Node database
    return user


def login(api_client, password):
    return api_client.post("/api/v1/auth/login", {"email": "imported@example.com", "password": password})


@pytest.mark.parametrize("node_hash", [NODE_2A, NODE_2B, f"bcrypt${NODE_2B}"])
def test_an_imported_user_signs_in_and_is_rehashed(api_client, node_hash):
    user = imported(node_hash)
    wrong = login(api_client, "not-the-password")
    assert wrong.status_code == 401
    user.refresh_from_db()
    assert user.password == node_hash  # a failed sign-in changes nothing
    assert login(api_client, PASSWORD).status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # upgraded to the preferred hasher
    assert login(api_client, PASSWORD).status_code == 200
    assert login(api_client, "not-the-password").status_code == 401


def test_passwords_are_cut_at_72_bytes_as_node_did(api_client):
    hasher = NodeBcryptPasswordHasher()
    assert hasher.verify("x" * 72 + "tail-ignored", f"bcrypt${NODE_LONG}")
    assert hasher.verify("x" * 72 + "anything else", f"bcrypt${NODE_LONG}")  # Node ignored the tail too
    assert not hasher.verify("x" * 71, f"bcrypt${NODE_LONG}")
    imported(NODE_LONG)
    assert login(api_client, "x" * 72 + "tail-ignored").status_code == 200


def test_a_damaged_hash_matches_nothing(api_client):
    imported("$2b$10$tooshort")
    assert login(api_client, PASSWORD).status_code == 401


def test_bcrypt_as_the_preferred_hasher_uses_bcrypt_rounds(api_client, settings):
    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:2] + settings.PASSWORD_HASHERS[:1]  # PASSWORD_HASHER=bcrypt
    settings.BCRYPT_ROUNDS = 5
    user = imported(NODE_2B)  # cost 10: not BCRYPT_ROUNDS, so re-hashed at sign-in
    assert login(api_client, PASSWORD).status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("bcrypt$$2b$05$")
    user.set_password("A-new-pass-2030")
    assert user.password.startswith("bcrypt$$2b$05$") and user.check_password("A-new-pass-2030")


def test_the_setting_picks_the_preferred_hasher():
    code = "from django.conf import settings; print(settings.PASSWORD_HASHERS[0], settings.BCRYPT_ROUNDS)"
    for chosen, expected in (
        ("bcrypt", "accounts.hashers.NodeBcryptPasswordHasher 11"),
        ("pbkdf2", "django.contrib.auth.hashers.PBKDF2PasswordHasher 11"),
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_project.settings.dev",
            "PASSWORD_HASHER": chosen,
            "BCRYPT_ROUNDS": "11",
        }
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
