"""A session's devices end with it: signing out removes the devices that session registered; a
password change or reset, or a deactivation, ends every session and removes every device."""

from typing import Any

from django.dispatch import receiver

from accounts.signals import session_ended, sessions_revoked
from devices import services


@receiver(session_ended)
def _session_ended(sender: Any, user_id: int, session_id: str, **_: Any) -> None:
    services.devices_remove_session(user_id=user_id, session_id=session_id)


@receiver(sessions_revoked)
def _sessions_revoked(sender: Any, user_id: int, **_: Any) -> None:
    services.devices_remove_all(user_id=user_id)
