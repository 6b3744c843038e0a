"""allauth's own pages for a provider this server has no app for (anonymous, GET or POST, sign-in,
callback or Facebook's token login) answer what the API's `auth/<provider>` does in a browser's
words: a redirect to the web client's callback with `error=provider_not_configured`, never a 500."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

NONE_CONFIGURED = {"google": {"APPS": [], "SCOPE": ["email"]}, "facebook": {"APPS": [], "SCOPE": ["email"]}}
ONLY_FACEBOOK = {
    "google": {"APPS": [], "SCOPE": ["email"]},
    "facebook": {"APPS": [{"client_id": "fb-app", "secret": "fb-secret", "key": ""}], "SCOPE": ["email"]},
}
PAGES = [
    "/accounts/{provider}/login/",
    "/accounts/{provider}/login/callback/",
    "/accounts/{provider}/login/callback/?code=provider-code&state=made-up",
]


# (the token login is Facebook's JavaScript sign-in only)
PATHS = [page.format(provider=p) for p in ("google", "facebook") for page in PAGES]
PATHS.append("/accounts/facebook/login/token/")


@override_settings(SOCIALACCOUNT_PROVIDERS=NONE_CONFIGURED, FRONTEND_URL="https://app.example.com")
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("path", PATHS)
def test_an_unconfigured_provider_sends_the_browser_back_with_a_clear_error(path, method):
    answer = getattr(Client(raise_request_exception=False), method)(path)
    assert answer.status_code == 302, (path, answer.status_code)
    assert answer["Location"] == "https://app.example.com/auth/callback?error=provider_not_configured"


@override_settings(SOCIALACCOUNT_PROVIDERS=ONLY_FACEBOOK, FRONTEND_URL="https://app.example.com")
def test_a_configured_provider_still_goes_to_the_provider():
    client = Client()
    assert client.get("/accounts/google/login/")["Location"].endswith("error=provider_not_configured")
    to_provider = client.post("/accounts/facebook/login/")
    assert to_provider.status_code == 302 and to_provider["Location"].startswith("https://www.facebook.com/")
    api = client.get("/api/v1/auth/google")
    assert api.status_code == 400 and api.json()["error"]["code"] == "provider_not_configured"
