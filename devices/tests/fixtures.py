"""Fixtures of the real parts (devices/tests/standins.py), for the conftest of each app that needs them:
`from devices.tests.fixtures import *`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from push_notifications import settings as push_settings

from devices import providers
from devices.tests.standins import ApnsStandIn, FcmStandIn, SmtpInbox, WebPushEndpoint, running_worker, vapid_pair

__all__ = ["PushParts", "push_parts", "worker"]


@dataclass
class PushParts:
    webpush: WebPushEndpoint
    fcm: FcmStandIn
    apns: ApnsStandIn
    smtp: SmtpInbox


def _reset_firebase() -> None:
    import firebase_admin  # noqa: PLC0415

    try:
        firebase_admin.delete_app(firebase_admin.get_app())
    except ValueError:
        pass


@pytest.fixture
def push_parts(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Web Push service, FCM, APNs and a mail server on loopback, with the settings pointing at them."""
    private, public = vapid_pair()
    subject = "mailto:ops@example.com"
    with WebPushEndpoint(public, subject) as webpush, FcmStandIn() as fcm, ApnsStandIn() as apns, SmtpInbox() as smtp:
        settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = private, public
        settings.WEBPUSH_VAPID_SUBJECT = subject
        settings.WEBPUSH_ALLOWED_ENDPOINTS = [f"{webpush.base}/push/"]
        settings.FCM_CREDENTIALS_FILE, settings.FCM_ENDPOINT = fcm.credentials_file, fcm.endpoint
        settings.APNS_AUTH_KEY_FILE, settings.APNS_KEY_ID, settings.APNS_TEAM_ID = apns.key_file, "KEY123", "TEAM123"
        settings.APNS_ENDPOINT, settings.APNS_TOPIC = apns.endpoint, "com.example.crm"
        # django-push-notifications reads its settings once, at import
        monkeypatch.setitem(push_settings.PUSH_NOTIFICATIONS_SETTINGS, "APNS_TOPIC", "com.example.crm")
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.controller.port
        monkeypatch.setenv("SSL_CERT_FILE", apns.ca_file)  # aioapns' TLS trusts the stand-in's certificate
        _reset_firebase()
        providers.point_at_configured_endpoints()
        try:
            yield PushParts(webpush, fcm, apns, smtp)
        finally:
            settings.FCM_ENDPOINT = settings.APNS_ENDPOINT = ""
            providers.point_at_configured_endpoints()
            _reset_firebase()


@pytest.fixture
def worker(transactional_db: Any) -> Any:
    """A real Celery worker on the tests' queue (the real Redis), started after the per-test Redis clean-up;
    `worker.settled()` waits until every job sent has run."""
    with running_worker() as jobs:
        yield jobs
