from datetime import timedelta

import pytest
from django.test import override_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {"email": "New.Student@Example.com", "password": "Str0ng-pass-phrase", "first_name": "Ada", "last_name": "L"}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_signup_creates_a_student_and_returns_tokens(api_client):
    response = api_client.post("/api/v1/auth/signup", SIGNUP, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "new.student@example.com"
    assert body["user"]["role"] == "student"
    me = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.json()["email"] == "new.student@example.com"


def test_signup_cannot_choose_a_role(api_client):
    response = api_client.post("/api/v1/auth/signup", {**SIGNUP, "role": "super_admin"}, format="json")
    assert response.status_code == 201
    assert User.objects.get(email="new.student@example.com").role == Role.STUDENT


def test_signup_email_is_unique_case_insensitively(api_client):
    UserFactory(email="new.student@example.com")
    assert_error(api_client.post("/api/v1/auth/signup", SIGNUP, format="json"), 409, "email_taken")


@pytest.mark.parametrize(
    "change, code",
    [
        ({"password": "123"}, "weak_password"),
        ({"password": "password"}, "weak_password"),
        ({"email": "not-an-email"}, "validation_error"),
        ({"email": "a" * 300 + "@example.com"}, "validation_error"),
        ({"first_name": "x" * 151}, "validation_error"),
        ({"first_name": None}, "validation_error"),
    ],
)
def test_signup_bad_input_is_a_400_in_the_one_shape(api_client, change, code):
    assert_error(api_client.post("/api/v1/auth/signup", {**SIGNUP, **change}, format="json"), 400, code)
    assert not User.objects.exists()


def test_malformed_json_is_a_400(api_client):
    response = api_client.post("/api/v1/auth/login", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_unsupported_content_type_is_a_415(api_client):
    response = api_client.post("/api/v1/auth/login", "<xml/>", content_type="application/xml")
    assert_error(response, 415, "unsupported_media_type")


def test_login_returns_tokens_and_user(api_client, consultant):
    response = api_client.post("/api/v1/auth/login", {"email": "CONSULTANT@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh", "expires_in", "user"}
    assert response.json()["expires_in"] == 15 * 60  # JWT_ACCESS_MINUTES
    assert response.json()["user"]["office_id"] == consultant.office_id


def test_login_wrong_password_and_unknown_email_look_the_same(api_client, consultant):
    wrong = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": "nope"})
    unknown = api_client.post("/api/v1/auth/login", {"email": "ghost@example.com", "password": "nope"})
    assert_error(wrong, 401, "invalid_credentials")
    assert_error(unknown, 401, "invalid_credentials")
    assert wrong.json() == unknown.json()


def test_inactive_user_cannot_log_in(api_client, consultant):
    consultant.is_active = False
    consultant.save()
    assert_error(
        api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}),
        401,
        "invalid_credentials",
    )


@override_settings()
def test_login_is_throttled_per_account_with_retry_after(api_client, consultant):
    for _ in range(5):
        api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": "wrong"}, REMOTE_ADDR="10.0.0.1")
    # A sixth attempt on the same account from another address is still refused.
    response = api_client.post(
        "/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.2"
    )
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["details"]["retry_after"] > 0
    # Another account from the first address is not locked out by it.
    other = UserFactory(email="other@example.com")
    ok = api_client.post("/api/v1/auth/login", {"email": other.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.3")
    assert ok.status_code == 200


def test_login_is_throttled_per_address(api_client):
    for n in range(20):
        api_client.post("/api/v1/auth/login", {"email": f"u{n}@example.com", "password": "x"}, REMOTE_ADDR="10.9.9.9")
    response = api_client.post(
        "/api/v1/auth/login", {"email": "fresh@example.com", "password": "x"}, REMOTE_ADDR="10.9.9.9"
    )
    assert_error(response, 429, "throttled")
    assert "Retry-After" in response


def test_refresh_rotates_and_the_old_refresh_stops_working(api_client, consultant):
    tokens = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}).json()
    rotated = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh", "expires_in"}
    assert rotated.json()["expires_in"] == 15 * 60
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert_error(api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}), 401, "token_invalid")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 3000])
def test_refresh_with_bad_token(api_client, token):
    response = api_client.post("/api/v1/auth/refresh", {"refresh": token})
    assert response.status_code in (400, 401)
    assert "error" in response.json()


def test_expired_refresh_is_refused(api_client, consultant):
    refresh = RefreshToken.for_user(consultant)
    refresh.set_exp(lifetime=-timedelta(seconds=1))
    assert_error(api_client.post("/api/v1/auth/refresh", {"refresh": str(refresh)}), 401, "token_expired")


def test_logout_blacklists_the_refresh_token(api_client, consultant):
    tokens = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}).json()
    assert api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}).status_code == 204
    assert_error(api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}), 401, "token_invalid")
    assert_error(api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}), 401, "token_invalid")


def test_bad_and_expired_access_tokens_are_401_with_a_stable_code_and_a_human_message(api_client, consultant):
    assert_error(api_client.get("/api/v1/auth/me"), 401, "not_authenticated")
    bad = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer nonsense")
    assert_error(bad, 401, "token_invalid")
    expired = AccessToken.for_user(consultant)
    expired.set_exp(lifetime=-timedelta(seconds=1))
    late = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {expired}")
    assert_error(late, 401, "token_expired")
    for response in (bad, late):
        message = response.json()["error"]["message"]
        assert "ErrorDetail" not in message and "{" not in message and "token_class" not in message
        assert message.endswith("sign in again.") and response.json()["error"]["details"] == {}
    assert bad.json()["error"]["message"] != late.json()["error"]["message"]


def test_me_updates_profile_but_never_role_office_or_email(client_for, consultant, other_office):
    client = client_for(consultant)
    response = client.patch(
        "/api/v1/auth/me",
        {
            "first_name": "Grace",
            "phone": "+44 1",
            "role": "super_admin",
            "office_id": other_office.id,
            "email": "x@example.com",
        },
    )
    assert response.status_code == 200
    consultant.refresh_from_db()
    assert (consultant.first_name, consultant.phone) == ("Grace", "+44 1")
    assert consultant.role == Role.CONSULTANT
    assert consultant.office_id != other_office.id
    assert consultant.email == "consultant@example.com"


def test_password_change_signs_out_other_sessions(api_client, client_for, consultant):
    old = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": PASSWORD}).json()
    client = client_for(consultant)
    bad = client.post("/api/v1/auth/password", {"old_password": "wrong", "new_password": "An0ther-long-one"})
    assert_error(bad, 400, "wrong_password")
    weak = client.post("/api/v1/auth/password", {"old_password": PASSWORD, "new_password": "123"})
    assert_error(weak, 400, "weak_password")
    ok = client.post("/api/v1/auth/password", {"old_password": PASSWORD, "new_password": "An0ther-long-one"})
    assert ok.status_code == 200 and set(ok.json()) == {"access", "refresh", "expires_in"}
    assert_error(api_client.post("/api/v1/auth/refresh", {"refresh": old["refresh"]}), 401, "token_invalid")
    relogin = api_client.post("/api/v1/auth/login", {"email": consultant.email, "password": "An0ther-long-one"})
    assert relogin.status_code == 200


def test_paths_answer_with_and_without_trailing_slash(client_for, consultant):
    client = client_for(consultant)
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me/").status_code == 200
    assert client.get("/api/v1/users").status_code == 200
    assert client.get("/api/v1/users/").status_code == 200


def test_unknown_api_path_is_a_404_in_the_one_shape(client):
    assert_error(client.get("/api/v1/does-not-exist"), 404, "not_found")
