"""Devices: a user's own (404 for anyone else's), Web Push only to allowed push services (400 at
registration, refused again at send time whatever DNS or the service says), and a session's devices end
with the session."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD
from devices.models import Device, DeviceKind
from devices.providers import Outcome, Push, push_to_device
from devices.tests.standins import vapid_pair
from devices.webpush import endpoint_allowed

KEYS = {"p256dh": vapid_pair()[1], "auth": "aGVsbG8td29ybGQtMTIzNA"}  # a P-256 point; 16 bytes


@pytest.fixture(autouse=True)
def _allowed(settings):
    settings.WEBPUSH_ALLOWED_ENDPOINTS = [
        "https://fcm.googleapis.com/fcm/send/",
        "https://updates.push.services.mozilla.com/",
    ]


def webpush(endpoint):
    return {"kind": "webpush", "subscription": {"endpoint": endpoint, "keys": KEYS, "expirationTime": None}}


@pytest.mark.django_db
def test_register_list_and_delete_own_devices(client_for, student):
    client = client_for(student)
    first = client.post("/api/v1/devices", {"kind": "fcm", "token": "fcm-token-1"}, format="json")
    assert first.status_code == 201 and first.json()["kind"] == "fcm"
    again = client.post("/api/v1/devices", {"kind": "fcm", "token": "fcm-token-1"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    browser = client.post("/api/v1/devices", webpush("https://fcm.googleapis.com/fcm/send/abc:def"), format="json")
    assert browser.status_code == 201
    listed = client.get("/api/v1/devices").json()
    assert [d["id"] for d in listed["results"]] == [browser.json()["id"], first.json()["id"]] and listed["next"] is None
    assert "auth" not in listed["results"][0]
    assert client.delete(f"/api/v1/devices/{first.json()['id']}").status_code == 204
    assert list(Device.objects.values_list("token", flat=True)) == ["https://fcm.googleapis.com/fcm/send/abc:def"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist", "student"])
def test_anyone_elses_device_is_not_found(client_for, actors, other_consultant, role):
    theirs = Device.objects.create(user=other_consultant, kind=DeviceKind.APNS, token="theirs")
    client = client_for(actors[role])
    assert client.delete(f"/api/v1/devices/{theirs.pk}").status_code == 404
    assert client.get("/api/v1/devices").json()["results"] == []
    for bad in ("abc", "0", "-1", str(2**70)):
        assert client.delete(f"/api/v1/devices/{bad}").status_code == 404
    assert Device.objects.filter(pk=theirs.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example/push",
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://fcm.googleapis.com.evil.example/fcm/send/x",
        "https://fcm.googleapis.com@evil.example/fcm/send/x",
        "https://evil.example\\@fcm.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com:8443/fcm/send/x",
        "https://fcm.googleapis.com/other/x",
        "https://fcm.googleapis.com/fcm/send/../../admin",
        "https://fcm.googleapis.com/fcm/send/%2e%2e/admin",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/fcm/send/x",
        "file:///etc/passwd",
        "https://fcm.googleapis.com/fcm/send/" + "x" * 3000,
    ],
)
def test_webpush_endpoints_outside_the_allowed_list_are_refused(client_for, student, endpoint):
    response = client_for(student).post("/api/v1/devices", webpush(endpoint), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"endpoint_not_allowed", "validation_error"}
    assert not Device.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"kind": "fcm"},
        {"kind": "fcm", "token": ""},
        {"kind": "sms", "token": "x"},
        {"kind": "webpush", "token": "https://fcm.googleapis.com/fcm/send/x"},
        {
            "kind": "webpush",
            "subscription": {
                "endpoint": "https://fcm.googleapis.com/fcm/send/x",
                "keys": {"p256dh": "bad", "auth": "x"},
            },
        },
        {
            "kind": "webpush",
            "subscription": {
                "endpoint": "https://fcm.googleapis.com/fcm/send/x",
                "keys": {"p256dh": KEYS["p256dh"], "auth": "!!"},
            },
        },
        {"kind": "apns", "token": "a\x00b"},
        {
            "kind": "webpush",
            "subscription": {
                "endpoint": "https://fcm.googleapis.com/fcm/send/x",
                "keys": {"p256dh": "BA" + "A" * 85, "auth": KEYS["auth"]},
            },
        },
        [],
        "text",
    ],
)
def test_malformed_registrations_get_a_clear_400(client_for, student, body):
    response = client_for(student).post("/api/v1/devices", body, format="json")
    assert response.status_code == 400 and "error" in response.json()
    assert not Device.objects.exists()


@pytest.mark.django_db
def test_a_token_registered_again_by_someone_else_moves_to_them(client_for, student, consultant):
    client_for(student).post("/api/v1/devices", {"kind": "apns", "token": "shared-phone"}, format="json")
    client_for(consultant).post("/api/v1/devices", {"kind": "apns", "token": "shared-phone"}, format="json")
    assert list(Device.objects.values_list("user_id", flat=True)) == [consultant.pk]


@pytest.mark.django_db
def test_the_vapid_public_key_is_served(client_for, student, settings):
    settings.WEBPUSH_VAPID_PUBLIC_KEY = "BPUBLIC"
    assert client_for(student).get("/api/v1/devices/webpush-key").json() == {"public_key": "BPUBLIC"}
    assert APIClient().get("/api/v1/devices/webpush-key").status_code == 401


def signed_in(student):
    client = APIClient()
    pair = client.post("/api/v1/auth/login", {"email": student.email, "password": PASSWORD}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    return client, pair


@pytest.mark.django_db
def test_signing_out_removes_that_sessions_devices_only(student):
    phone, phone_pair = signed_in(student)
    laptop, _ = signed_in(student)
    phone.post("/api/v1/devices", {"kind": "fcm", "token": "phone"}, format="json")
    laptop.post("/api/v1/devices", {"kind": "fcm", "token": "laptop"}, format="json")
    # the session survives a refresh (the sid claim is kept when the refresh token rotates)
    rotated = APIClient().post("/api/v1/auth/refresh", {"refresh": phone_pair["refresh"]}, format="json").json()
    assert APIClient().post("/api/v1/auth/logout", {"refresh": rotated["refresh"]}, format="json").status_code == 204
    assert list(Device.objects.values_list("token", flat=True)) == ["laptop"]


@pytest.mark.django_db
def test_a_password_change_removes_every_device(student):
    client, _ = signed_in(student)
    client.post("/api/v1/devices", {"kind": "fcm", "token": "phone"}, format="json")
    Device.objects.create(user=student, kind=DeviceKind.APNS, token="old-session")
    response = client.post(
        "/api/v1/auth/password", {"old_password": PASSWORD, "new_password": "An-entirely-new-one-77"}, format="json"
    )
    assert response.status_code == 200
    assert not Device.objects.exists()


# --- at send time --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_listed_name_that_resolves_to_a_private_address_is_refused_at_send_time(settings, student):
    """DNS is asked at send time, and a name's addresses must be public: a listed host whose DNS now
    answers with a loopback or private address (rebinding) gets no request."""
    private, public = vapid_pair()
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = private, public
    settings.WEBPUSH_ALLOWED_ENDPOINTS = ["http://localhost:9/push/"]
    device = Device.objects.create(user=student, kind=DeviceKind.WEBPUSH, token="http://localhost:9/push/x", **KEYS)
    result = push_to_device(device, Push(title="t", body="b"))
    assert result.outcome == Outcome.REFUSED


@pytest.mark.django_db(transaction=True)
def test_a_redirect_from_a_push_service_is_not_followed(push_parts, student):
    subscription = push_parts.webpush.subscription("moved")
    push_parts.webpush.answers["moved"] = [307]
    device = Device.objects.create(
        user=student, kind=DeviceKind.WEBPUSH, token=subscription["endpoint"], **subscription["keys"]
    )
    assert push_to_device(device, Push(title="t", body="b")).outcome == Outcome.REFUSED
    assert push_parts.webpush.received == []


@pytest.mark.django_db
def test_an_endpoint_removed_from_the_list_gets_nothing(settings, student):
    device = Device.objects.create(
        user=student, kind=DeviceKind.WEBPUSH, token="https://updates.push.services.mozilla.com/wpush/v2/x", **KEYS
    )
    settings.WEBPUSH_ALLOWED_ENDPOINTS = ["https://fcm.googleapis.com/fcm/send/"]
    settings.WEBPUSH_VAPID_PRIVATE_KEY = vapid_pair()[0]
    assert not endpoint_allowed(device.token)
    assert push_to_device(device, Push(title="t", body="b")).outcome == Outcome.REFUSED


@pytest.mark.django_db
def test_the_device_list_costs_the_same_queries_for_any_number(client_for, student, django_assert_num_queries):
    client = client_for(student)
    client.get("/api/v1/devices")  # the token's statement prepared
    for n in range(4):
        Device.objects.create(user=student, kind=DeviceKind.FCM, token=f"t{n}")
    with django_assert_num_queries(2):  # the signed-in user, the page
        assert len(client.get("/api/v1/devices").json()["results"]) == 4
