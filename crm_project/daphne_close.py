"""Two things daphne 4.2 leaves out of the ASGI `websocket.close` message, patched in.

- The `reason`: daphne closes with the code alone, so a client's `CloseEvent.reason` was always
  empty. Here an open socket closes with both (autobahn's `sendClose` takes a reason of at most
  123 bytes of UTF-8).
- The status of a refused handshake: a close before `websocket.accept` is answered `403 Access
  denied` whatever the code (ASGI's rule when the server lacks the denial-response extension,
  which daphne does). Here the socket close codes that can refuse a handshake keep their meaning
  as HTTP statuses (4401 -> 401, ...), which clients that see the handshake's response (Node's
  `ws`, React Native) can read; a browser sees a failed connection either way (`onerror`, then
  `onclose` with 1006 and `onopen` never called).

`core/tests/test_daphne_close.py` pins the daphne code this replaces: on an upgrade that changes it,
re-read `daphne/ws_protocol.py` (`handle_reply`, `serverReject`).
"""

from __future__ import annotations

import logging
from typing import Any

from autobahn.websocket.types import ConnectionDeny
from daphne.ws_protocol import WebSocketProtocol

from core.edge import HANDSHAKE_STATUS

logger = logging.getLogger(__name__)

MAX_REASON_BYTES = 123  # RFC 6455: a close frame's body is at most 125 bytes, two of them the code

_daphne_handle_reply = WebSocketProtocol.handle_reply


def _reject(protocol: Any, status: int, reason: str) -> None:
    """daphne's `serverReject`, with the status and reason given instead of 403 "Access denied"."""
    protocol.handshake_deferred.errback(ConnectionDeny(code=status, reason=reason))
    del protocol.handshake_deferred
    protocol.server.protocol_disconnected(protocol)
    logger.debug("WebSocket %s rejected by application (%s)", protocol.client_addr, status)


def _reason(message: dict[str, Any]) -> str | None:
    reason = message.get("reason")
    if not reason:
        return None
    encoded = str(reason).encode()[:MAX_REASON_BYTES]
    return encoded.decode(errors="ignore")


def handle_reply(protocol: Any, message: dict[str, Any]) -> None:
    if message.get("type") == "websocket.close":
        code = message.get("code")
        reason = _reason(message)
        if protocol.state == protocol.STATE_CONNECTING:
            status = HANDSHAKE_STATUS.get(code, 403) if isinstance(code, int) else 403
            return _reject(protocol, status, reason or "Access denied")
        if reason:
            return protocol.sendClose(code=code or 1000, reason=reason)
    return _daphne_handle_reply(protocol, message)


def install() -> None:
    WebSocketProtocol.handle_reply = handle_reply
