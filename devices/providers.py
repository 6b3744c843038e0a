"""Sending one push to one device, through django-push-notifications and the providers' libraries.

`push_to_device(device, push)` answers what happened, in the terms the caller acts on:
- SENT: the provider took it;
- DEAD: the provider says the token or subscription is gone (FCM UNREGISTERED, APNs Unregistered /
  BadDeviceToken, Web Push 404/410): the caller deletes the device;
- RETRY: a passing failure (throttled, 5xx, timeout, connection): send again later, after
  `retry_after` seconds when the provider said;
- REFUSED: never sendable as it is (a Web Push endpoint outside the allowed list, a provider not
  configured): dropped, logged.

FCM goes through `push_notifications.gcm` (firebase-admin, HTTP v1), APNs through
`push_notifications.apns_async` (aioapns, HTTP/2, token authentication), Web Push through pywebpush
with the guarded session of `devices.webpush`. `FCM_ENDPOINT` / `APNS_ENDPOINT` point the first two
elsewhere than the providers' documented addresses (an egress proxy; the stand-ins of the tests):
both libraries keep those addresses as class attributes, set once at start-up
(`point_at_configured_endpoints`; devices/tests/test_providers.py pins the names).
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from devices.models import Device, DeviceKind
from devices.webpush import EndpointRefused, endpoint_allowed, guarded_session

logger = logging.getLogger("crm.push")

DOCUMENTED_FCM_URL = "https://fcm.googleapis.com/v1/projects/{0}/messages:send"
DOCUMENTED_APNS_PRODUCTION = "api.push.apple.com:443"
DOCUMENTED_APNS_DEVELOPMENT = "api.development.push.apple.com:443"


class Outcome(enum.Enum):
    SENT = "sent"
    DEAD = "dead"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True)
class Push:
    """What a device shows: a title, a short body, the ids to open the thing (strings, as FCM wants
    them), the badge (unread count), and a key under which a newer push replaces an older one."""

    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)
    badge: int | None = None
    collapse_key: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "data": self.data,
            "badge": self.badge,
            "tag": self.collapse_key,
        }


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    detail: str = ""
    retry_after: float | None = None


def point_at_configured_endpoints() -> None:
    """FCM_ENDPOINT and APNS_ENDPOINT, when set, replace the libraries' documented addresses."""
    from aioapns import connection as apns_connection  # noqa: PLC0415 - optional provider libraries
    from firebase_admin import messaging  # noqa: PLC0415

    messaging._MessagingService.FCM_URL = (
        settings.FCM_ENDPOINT.replace("{project}", "{0}") if settings.FCM_ENDPOINT else DOCUMENTED_FCM_URL
    )
    for protocol, documented in (
        (apns_connection.APNsProductionClientProtocol, DOCUMENTED_APNS_PRODUCTION),
        (apns_connection.APNsDevelopmentClientProtocol, DOCUMENTED_APNS_DEVELOPMENT),
    ):
        host, _, port = (settings.APNS_ENDPOINT or documented).rpartition(":")
        protocol.APNS_SERVER, protocol.APNS_PORT = host, int(port)


def push_to_device(device: Device, push: Push) -> Result:
    try:
        if device.kind == DeviceKind.WEBPUSH:
            return _webpush(device, push)
        if device.kind == DeviceKind.FCM:
            return _fcm(device, push)
        if device.kind == DeviceKind.APNS:
            return _apns(device, push)
    except Exception as exc:  # a library's own failure: logged, tried again later
        logger.warning("push failed", extra={"kind": device.kind, "device": device.pk}, exc_info=True)
        return Result(Outcome.RETRY, f"{type(exc).__name__}")
    return Result(Outcome.REFUSED, "unknown kind")


# --- Web Push --------------------------------------------------------------------------------------

_sessions = threading.local()


def _session() -> Any:
    if getattr(_sessions, "session", None) is None:
        _sessions.session = guarded_session()
    return _sessions.session


def _webpush(device: Device, push: Push) -> Result:
    from pywebpush import WebPusher  # noqa: PLC0415 - loaded by the workers only
    from requests import RequestException  # noqa: PLC0415

    if not settings.WEBPUSH_VAPID_PRIVATE_KEY:
        return Result(Outcome.REFUSED, "WEBPUSH_VAPID_PRIVATE_KEY is not set")
    if not endpoint_allowed(device.token):
        return Result(Outcome.REFUSED, "endpoint not allowed")
    headers = {"Urgency": "high", **_vapid_headers(device.token)}
    if push.collapse_key:
        headers["Topic"] = push.collapse_key[:32]  # RFC 8030: at most 32 URL-safe characters
    try:
        response = WebPusher(
            {"endpoint": device.token, "keys": {"p256dh": device.p256dh, "auth": device.auth}},
            requests_session=_session(),
        ).send(
            json.dumps(push.as_json()),
            headers,
            ttl=24 * 3600,
            content_encoding="aes128gcm",
            timeout=settings.PUSH_TIMEOUT_SECONDS,
        )
    except EndpointRefused as exc:
        return Result(Outcome.REFUSED, str(exc))
    except ValueError as exc:  # keys nothing can be encrypted for
        return Result(Outcome.REFUSED, f"bad subscription keys: {exc}")
    except RequestException as exc:  # TooManyRedirects included: a redirect is never followed
        if "redirect" in type(exc).__name__.lower():
            return Result(Outcome.REFUSED, "redirected")
        if isinstance(exc.__context__, EndpointRefused) or "EndpointRefused" in repr(exc):
            return Result(Outcome.REFUSED, "address refused")
        return Result(Outcome.RETRY, type(exc).__name__)
    status = response.status_code
    if status <= 202:
        return Result(Outcome.SENT)
    if status in (404, 410):
        return Result(Outcome.DEAD, f"http {status}")
    if status == 429 or status >= 500:
        return Result(Outcome.RETRY, f"http {status}", _retry_after(response))
    return Result(Outcome.REFUSED, f"http {status}")


_VAPID_LIFETIME = 12 * 3600
_vapid_headers_cache: dict[str, tuple[float, dict[str, str]]] = {}  # (key, subject, audience) -> header


def _vapid_headers(endpoint: str) -> dict[str, str]:
    """The VAPID Authorization header for this push service (RFC 8292: one per origin), signed once
    and used until an hour before it expires: an ECDSA signature per push was a fifth of its CPU."""
    parts = urlsplit(endpoint)
    audience = f"{parts.scheme}://{parts.netloc}"
    key = f"{settings.WEBPUSH_VAPID_PRIVATE_KEY}|{settings.WEBPUSH_VAPID_SUBJECT}|{audience}"
    now = time.time()
    cached = _vapid_headers_cache.get(key)
    if cached is None or cached[0] - now < 3600:
        expires = int(now) + _VAPID_LIFETIME
        signed = _vapid_key().sign({"sub": settings.WEBPUSH_VAPID_SUBJECT, "aud": audience, "exp": expires})
        cached = _vapid_headers_cache[key] = (expires, {str(k): str(v) for k, v in signed.items()})
    return dict(cached[1])


_vapid_cache: dict[str, Any] = {}


def _vapid_key() -> Any:
    """The VAPID signer, built once per process (parsing the key is most of a send's CPU otherwise)."""
    from py_vapid import Vapid  # noqa: PLC0415

    raw = settings.WEBPUSH_VAPID_PRIVATE_KEY
    if raw not in _vapid_cache:
        _vapid_cache[raw] = Vapid.from_pem(raw.encode()) if "BEGIN" in raw else Vapid.from_string(raw)
    return _vapid_cache[raw]


def _retry_after(response: Any) -> float | None:
    try:
        return float(response.headers.get("Retry-After"))
    except (AttributeError, TypeError, ValueError):
        return None


# --- FCM -------------------------------------------------------------------------------------------

_fcm_lock = threading.Lock()


def _fcm_ready() -> bool:
    import firebase_admin  # noqa: PLC0415
    from firebase_admin import credentials  # noqa: PLC0415

    if not settings.FCM_CREDENTIALS_FILE:
        return False
    with _fcm_lock:
        try:
            firebase_admin.get_app()
        except ValueError:
            firebase_admin.initialize_app(credentials.Certificate(settings.FCM_CREDENTIALS_FILE))
    return True


def _fcm(device: Device, push: Push) -> Result:
    from firebase_admin import exceptions, messaging  # noqa: PLC0415
    from push_notifications.gcm import send_message  # noqa: PLC0415

    if not _fcm_ready():
        return Result(Outcome.REFUSED, "FCM_CREDENTIALS_FILE is not set")
    message = messaging.Message(
        notification=messaging.Notification(title=push.title, body=push.body),
        data=push.data,
        android=messaging.AndroidConfig(
            collapse_key=push.collapse_key,
            priority="high",
            notification=messaging.AndroidNotification(tag=push.collapse_key, notification_count=push.badge),
        ),
        apns=messaging.APNSConfig(
            headers={"apns-collapse-id": push.collapse_key} if push.collapse_key else None,
            payload=messaging.APNSPayload(aps=messaging.Aps(badge=push.badge)),
        ),
    )
    response = send_message([device.token], message)
    error = response.responses[0].exception if response and response.responses else None
    if error is None:
        return Result(Outcome.SENT)
    if isinstance(error, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return Result(Outcome.DEAD, error.code)
    if isinstance(error, exceptions.InvalidArgumentError) and "registration" in str(error).lower():
        return Result(Outcome.DEAD, error.code)
    retryable = (
        messaging.QuotaExceededError,
        exceptions.UnavailableError,
        exceptions.InternalError,
        exceptions.DeadlineExceededError,
        exceptions.UnknownError,
    )
    if isinstance(error, retryable):
        return Result(Outcome.RETRY, error.code, _retry_after(getattr(error, "http_response", None)))
    return Result(Outcome.REFUSED, getattr(error, "code", type(error).__name__))


# --- APNs ------------------------------------------------------------------------------------------

_APNS_DEAD = {"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"}


def _apns(device: Device, push: Push) -> Result:
    from push_notifications.apns_async import Alert, TokenCredentials, apns_send_message  # noqa: PLC0415
    from push_notifications.exceptions import APNSError  # noqa: PLC0415

    if not (settings.APNS_AUTH_KEY_FILE and settings.APNS_KEY_ID and settings.APNS_TEAM_ID and settings.APNS_TOPIC):
        return Result(Outcome.REFUSED, "APNs credentials are not set")
    failures: list[str] = []

    async def note_failure(request: Any, result: Any) -> None:
        failures.append(str(result.description))

    try:
        apns_send_message(
            device.token,
            Alert(title=push.title, body=push.body),
            creds=TokenCredentials(
                key=settings.APNS_AUTH_KEY_FILE, key_id=settings.APNS_KEY_ID, team_id=settings.APNS_TEAM_ID
            ),
            badge=push.badge,
            extra=dict(push.data),
            collapse_id=push.collapse_key,
            thread_id=push.collapse_key,
            err_func=note_failure,
        )
    except APNSError as exc:
        reason = failures[0] if failures else str(exc)
        if any(dead in reason for dead in _APNS_DEAD):
            return Result(Outcome.DEAD, reason)
        return Result(Outcome.RETRY, reason)
    return Result(Outcome.SENT)
