"""Registering and removing push targets. A device is its owner's alone."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec
from django.db import IntegrityError, transaction

from accounts.models import User
from core.errors import NotFound, ValidationFailed
from devices.errors import DeviceErrorCode
from devices.models import Device, DeviceKind
from devices.selectors import device_list_for
from devices.webpush import MAX_ENDPOINT_LENGTH, endpoint_allowed

MAX_TOKEN_LENGTH = 4096


def _b64url_bytes(value: str, name: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValidationFailed(
            f"keys.{name} is not base64url.", code=DeviceErrorCode.INVALID_DEVICE, details={name: ["invalid"]}
        ) from None


def _checked_webpush(endpoint: str, p256dh: str, auth: str) -> None:
    if len(endpoint) > MAX_ENDPOINT_LENGTH or not endpoint_allowed(endpoint):
        raise ValidationFailed(
            "This push service is not allowed (WEBPUSH_ALLOWED_ENDPOINTS).",
            code=DeviceErrorCode.ENDPOINT_NOT_ALLOWED,
            details={"endpoint": ["not allowed"]},
        )
    key = _b64url_bytes(p256dh, "p256dh")
    try:  # an uncompressed point on P-256, or nothing could ever be encrypted for it
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        raise ValidationFailed(
            "keys.p256dh is not a P-256 public key.",
            code=DeviceErrorCode.INVALID_DEVICE,
            details={"p256dh": ["invalid"]},
        ) from None
    if len(_b64url_bytes(auth, "auth")) != 16:
        raise ValidationFailed(
            "keys.auth must be 16 bytes.", code=DeviceErrorCode.INVALID_DEVICE, details={"auth": ["invalid"]}
        )


@transaction.atomic
def device_register(
    *, user: User, kind: str, token: str, p256dh: str = "", auth: str = "", session_id: str = ""
) -> tuple[Device, bool]:
    """Register (or refresh) a push target for `user` and this sign-in session. A token already
    registered moves to `user` (the provider gives a token to one app install; whoever signs in there
    now owns it). Returns (device, created)."""
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or any(ord(c) < 32 for c in token):
        raise ValidationFailed(
            "A device needs a token.", code=DeviceErrorCode.INVALID_DEVICE, details={"token": ["invalid"]}
        )
    if kind == DeviceKind.WEBPUSH:
        _checked_webpush(token, p256dh, auth)
    else:
        p256dh = auth = ""
    fields = {"user": user, "p256dh": p256dh, "auth": auth, "session_id": session_id}
    try:
        with transaction.atomic():
            return Device.objects.update_or_create(kind=kind, token=token, defaults=fields)
    except IntegrityError:  # two registrations of one token raced: the other one created it
        return Device.objects.update_or_create(kind=kind, token=token, defaults=fields)[0], False


def device_delete(*, user: User, device_id: object) -> None:
    try:
        pk = int(str(device_id))
    except ValueError:
        raise NotFound("Device not found.") from None
    if not 0 < pk < 2**63 or not device_list_for(user).filter(pk=pk).delete()[0]:
        raise NotFound("Device not found.")


def devices_remove_session(*, user_id: int, session_id: str) -> int:
    """The devices a sign-in session registered: gone when it signs out."""
    if not session_id:
        return 0
    return Device.objects.filter(user_id=user_id, session_id=session_id).delete()[0]


def devices_remove_all(*, user_id: int) -> int:
    """Every device of the user: their sessions all ended (password changed or reset, deactivated)."""
    return Device.objects.filter(user_id=user_id).delete()[0]


def device_forget_dead(*, device_id: int) -> None:
    """The provider said this token or subscription no longer exists."""
    Device.objects.filter(pk=device_id).delete()
