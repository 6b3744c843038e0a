"""DEBUG_SOCKET=true logs every frame in and out of a real daphne process, and never a token."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)


def socket_session(port, token, conversation_id):
    async def scenario():
        async with ws_connect(f"ws://127.0.0.1:{port}/ws/?token={token}") as ws:
            # a client that pastes its token into a frame must not see it logged either
            await ws.send(json.dumps({"event": "ping", "id": "p1", "data": {"token": token}}))
            await ws.send(
                json.dumps(
                    {
                        "event": "send_message",
                        "id": "s1",
                        "data": {"conversation_id": conversation_id, "content": "logged hello"},
                    }
                )
            )
            seen = set()
            while not {"p1", "s1", "message_received"} <= seen:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                seen.add(frame.get("id") if frame["event"] == "ack" else frame["event"])

    asyncio.run(scenario())


@pytest.mark.parametrize("debug", ["true", "false"])
def test_debug_socket_logs_frames_in_and_out_without_tokens(tmp_path, debug):
    office = OfficeFactory(name="Logs")
    talker, other = ConsultantFactory(office=office), ConsultantFactory(office=office)
    conversation = make_conversation(talker, other, office=office)
    token = access_token_for(talker)
    with daphne_servers(tmp_path, DEBUG_SOCKET=debug, LOG_LEVEL="INFO", LOG_FORMAT="json") as (ports, logs):
        socket_session(ports[0], token, conversation.id)
        logs[0].flush()
        logs[0].seek(0)
        lines = [json.loads(line) for line in logs[0].read().splitlines() if line.startswith("{")]
    frames = [
        line["message"] for line in lines if line["name"] == "crm.socket" and line["message"].startswith("frame ")
    ]
    if debug == "false":
        assert frames == []
        return
    assert any(f.startswith(f"frame in user={talker.id} ") and '"event": "ping"' in f for f in frames)
    assert any(f.startswith("frame in ") and "logged hello" in f for f in frames)
    assert any(f.startswith("frame out ") and '"event":"ack"' in f.replace(": ", ":") and '"p1"' in f for f in frames)
    assert any(f.startswith("frame out ") and "message_received" in f and "logged hello" in f for f in frames)
    assert token not in json.dumps(lines) and token.split(".")[2] not in json.dumps(lines)
