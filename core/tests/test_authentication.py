"""Bearer tokens: the prebuilt user lookup keeps simplejwt's refusals."""

from datetime import timedelta
from unittest import mock

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from conftest import access_token_for

pytestmark = pytest.mark.django_db


def me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/v1/auth/me")


def test_the_token_user_is_loaded_whole(consultant):
    response = me(access_token_for(consultant))
    assert response.status_code == 200 and response.json()["email"] == consultant.email
    assert response.json()["office_id"] == consultant.office_id


def test_inactive_deleted_and_odd_users_are_refused(consultant, receptionist):
    inactive, deleted = access_token_for(consultant), access_token_for(receptionist)
    consultant.is_active = False
    consultant.save(update_fields=["is_active"])
    receptionist.delete()
    odd = AccessToken()
    odd["user_id"] = "not-a-number"
    for token in (inactive, deleted):
        response = me(token)
        assert response.status_code == 401 and response.json()["error"]["code"] == "token_invalid"
    assert me(str(odd)).status_code == 401  # simplejwt itself answered 500 here


def test_a_remembered_token_still_expires(consultant, settings):
    token = access_token_for(consultant)
    assert me(token).status_code == 200 and me(token).status_code == 200  # verified, then remembered
    later = aware_utcnow() + timedelta(minutes=settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() / 60 + 1)
    with (
        mock.patch("core.authentication.aware_utcnow", return_value=later),
        mock.patch("rest_framework_simplejwt.tokens.aware_utcnow", return_value=later),
    ):
        response = me(token)
    assert response.status_code == 401 and response.json()["error"]["code"] == "token_expired"


def test_a_forged_token_is_refused_even_next_to_a_remembered_one(consultant, receptionist):
    token = access_token_for(consultant)
    assert me(token).status_code == 200
    header, _payload, signature = token.split(".")
    other_payload = access_token_for(receptionist).split(".")[1]
    assert me(f"{header}.{other_payload}.{signature}").status_code == 401
