"""Social sign-in end to end, with Facebook's HTTP answers faked by `responses`."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.test import override_settings

from accounts.models import Role, User
from accounts.tests.factories import PASSWORD
from leads.models import Lead

pytestmark = pytest.mark.django_db

FACEBOOK = {
    "facebook": {
        "APPS": [{"client_id": "fb-app", "secret": "fb-secret", "key": ""}],
        "SCOPE": ["email"],
        "METHOD": "oauth2",
    },
    "google": {"APPS": [], "SCOPE": ["profile", "email"]},
}


def follow(client, response):
    assert response.status_code == 302, response.content
    return client.get(response["Location"])


@override_settings(SOCIALACCOUNT_PROVIDERS=FACEBOOK, FRONTEND_URL="https://app.example.com")
@responses.activate
def test_facebook_sign_in_ends_with_a_code_exchanged_for_tokens(client):
    responses.add(
        responses.GET,
        re.compile(r"https://graph\.facebook\.com/.*/oauth/access_token.*"),
        json={"access_token": "fb-token", "token_type": "bearer", "expires_in": 3600},
    )
    responses.add(
        responses.POST,
        re.compile(r"https://graph\.facebook\.com/.*/oauth/access_token.*"),
        json={"access_token": "fb-token", "token_type": "bearer", "expires_in": 3600},
    )
    responses.add(
        responses.GET,
        re.compile(r"https://graph\.facebook\.com/.*/me.*"),
        json={"id": "1234", "email": "Social.Student@example.com", "first_name": "Sam", "last_name": "Lee"},
    )

    start = client.get("/api/v1/auth/facebook")
    to_provider = follow(client, start)
    assert to_provider.status_code == 302
    provider_url = urlparse(to_provider["Location"])
    assert provider_url.netloc == "www.facebook.com"
    state = parse_qs(provider_url.query)["state"][0]

    callback = client.get("/accounts/facebook/login/callback/", {"code": "provider-code", "state": state})
    complete = follow(client, callback)
    assert complete.status_code == 302
    landing = urlparse(complete["Location"])
    assert f"{landing.scheme}://{landing.netloc}{landing.path}" == "https://app.example.com/auth/callback"
    query = parse_qs(landing.query)
    assert set(query) == {"code"}  # no token ever travels in a URL
    assert "access" not in complete["Location"] and "refresh" not in complete["Location"]

    exchanged = client.post("/api/v1/auth/social/exchange", {"code": query["code"][0]}, content_type="application/json")
    assert exchanged.status_code == 200
    body = exchanged.json()
    assert body["user"]["email"] == "social.student@example.com"
    assert User.objects.get(email="social.student@example.com").role == Role.STUDENT
    me = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200

    again = client.post("/api/v1/auth/social/exchange", {"code": query["code"][0]}, content_type="application/json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_code"


@override_settings(SOCIALACCOUNT_PROVIDERS=FACEBOOK)
def test_unconfigured_provider_is_a_clear_error(client):
    response = client.get("/api/v1/auth/google")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "provider_not_configured"


def test_unknown_provider_is_404(client):
    assert client.get("/api/v1/auth/myspace").status_code == 404


@pytest.mark.parametrize("code", ["", "nope", "x" * 500])
def test_bad_exchange_codes(client, code):
    response = client.post("/api/v1/auth/social/exchange", {"code": code}, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.json()


def test_complete_without_a_session_reports_failure(client):
    response = client.get("/api/v1/auth/social/complete")
    assert response.status_code == 302 and "error=social_login_failed" in response["Location"]


def fake_facebook(email="Social.Student@example.com"):
    for method in (responses.GET, responses.POST):
        responses.add(
            method,
            re.compile(r"https://graph\.facebook\.com/.*/oauth/access_token.*"),
            json={"access_token": "fb-token", "token_type": "bearer", "expires_in": 3600},
        )
    responses.add(
        responses.GET,
        re.compile(r"https://graph\.facebook\.com/.*/me.*"),
        json={"id": "1234", "email": email, "first_name": "Sam", "last_name": "Lee"},
    )


@override_settings(SOCIALACCOUNT_PROVIDERS=FACEBOOK, FRONTEND_URL="https://app.example.com")
@responses.activate
def test_a_first_social_sign_in_signs_up_through_the_api_signup_service(client):
    """Started at allauth's own page (no `next`): it still ends at the code hand-over, never at
    /accounts/profile/ (a 404), and the new student has their website lead like an API signup."""
    fake_facebook()
    to_provider = client.post("/accounts/facebook/login/")
    state = parse_qs(urlparse(to_provider["Location"]).query)["state"][0]
    callback = client.get("/accounts/facebook/login/callback/", {"code": "provider-code", "state": state})
    assert callback.status_code == 302 and callback["Location"] == "/api/v1/auth/social/complete"
    landing = follow(client, callback)
    assert landing["Location"].startswith("https://app.example.com/auth/callback?code=")
    student = User.objects.get(email="social.student@example.com")
    assert student.role == Role.STUDENT and not student.has_usable_password()
    lead = Lead.objects.get(student=student)
    assert (lead.email, lead.source, lead.first_name) == ("social.student@example.com", "website", "Sam")


def test_allauths_html_signup_password_login_and_reset_are_off(client, consultant):
    for path in ("/accounts/signup/", "/accounts/password/reset/", "/accounts/password/change/", "/accounts/email/"):
        assert client.get(path).status_code == 404
    signup = client.post(
        "/accounts/signup/",
        {"email": "x@example.com", "password1": "Str0ng-pass-phrase", "password2": "Str0ng-pass-phrase"},
    )
    assert signup.status_code == 404 and not User.objects.filter(email="x@example.com").exists()
    reset = client.post("/accounts/password/reset/", {"email": consultant.email})
    assert reset.status_code == 404
    login = client.post("/accounts/login/", {"login": consultant.email, "password": PASSWORD})
    assert login.status_code == 403 and "_auth_user_id" not in client.session
    assert client.get("/accounts/login/").status_code == 200  # the list of social providers


def test_no_allauth_page_leads_to_a_404(client, student):
    """Every allauth page still served, and where its redirect goes."""
    for path in (
        "/accounts/login/",
        "/accounts/3rdparty/login/cancelled/",
        "/accounts/3rdparty/login/error/",
        "/accounts/3rdparty/",
        "/accounts/3rdparty/signup/",
        "/accounts/logout/",
        "/accounts/inactive/",
    ):
        response, seen = client.get(path), [path]
        while response.status_code == 302 and response["Location"].startswith("/"):
            seen.append(response["Location"])
            response = client.get(response["Location"])
        assert response.status_code == 200 or response["Location"] == "http://localhost:3000", seen
    client.force_login(student)
    out = client.post("/accounts/logout/")
    assert out.status_code == 302 and out["Location"] == "http://localhost:3000"
