"""crm_project/daphne_close.py against a real daphne: a bad token is refused in the handshake with
401 (nothing opens), an open socket's close carries its reason; and a tripwire on the daphne code
the patch replaces."""

import asyncio
import hashlib
import inspect

import pytest
from daphne.ws_protocol import WebSocketProtocol
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers
from crm_project import daphne_close

# sha256 of the daphne methods crm_project/daphne_close.py stands in for (daphne 4.2.3). A change
# means: re-read daphne/ws_protocol.py (handle_reply, serverReject) and the patch, then update these.
PINNED = {
    "handle_reply": "5331423b1cf2016a7e68e20c357a9a81576a9a808ba8d5909bd103e2000f918e",
    "serverReject": "7166e95b99f2a316d5a1a1f07434e1af9714b7864c64f9c261a029a7beac5553",
}


def digest(name: str) -> str:
    # the patch keeps daphne's own handle_reply under _daphne_handle_reply
    method = daphne_close._daphne_handle_reply if name == "handle_reply" else getattr(WebSocketProtocol, name)
    return hashlib.sha256(inspect.getsource(method).encode()).hexdigest()


def test_the_daphne_code_the_patch_replaces_is_unchanged():
    found = {name: digest(name) for name in PINNED}
    assert found == PINNED, "daphne changed: re-read daphne/ws_protocol.py and crm_project/daphne_close.py"


@pytest.mark.django_db(transaction=True)
def test_a_bad_token_is_a_401_handshake_and_a_close_says_why(tmp_path, settings):
    person = ConsultantFactory()
    token = access_token_for(person)

    async def scenario(port: int) -> tuple[int, int, str]:
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(f"ws://127.0.0.1:{port}/ws/?token=not-a-token"):
                pass
        async with ws_connect(
            f"ws://127.0.0.1:{port}/ws/?token={token}", origin=Origin("https://evil.example.com")
        ) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 5)
        assert closed.value.rcvd is not None
        return refused.value.response.status_code, closed.value.rcvd.code, closed.value.rcvd.reason

    with daphne_servers(tmp_path, server="daphne", ALLOWED_WS_ORIGINS="https://app.example.com") as (ports, _):
        status, code, reason = asyncio.run(scenario(ports[0]))
    assert status == 401
    assert (code, reason) == (4403, "origin not allowed")
