"""What the socket promises (docs/websocket.md, docs/security.md), against a real server process of the
production kind (`core.tests.live_server`: granian by default, `LIVE_SERVER=daphne` for the development
server). In-process tests (Channels' communicator) prove the consumer's rules; these prove the server
running it keeps them: close codes and their reasons, origins, the cap, the ping timeout, frame sizes
in bytes, the trusted-proxy rule and the access log.

Elsewhere, also against real servers: 4503 (`core/tests/test_outages.py`), 4409 across two processes
(`messaging/tests/test_multiprocess.py`), tokens in every log line (`core/tests/test_log_redaction.py`),
several workers on one port (`core/tests/test_serve.py`), SIGTERM (`core/tests/test_graceful_shutdown.py`),
the node-kill drill (`messaging/tests/test_node_kill_drill.py`)."""

import asyncio
import json
import time

import pytest
from django.test import Client
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.tests.factories import ConsultantFactory, ManagerFactory
from conftest import access_token_for
from core.realtime import disconnect_user, rights_changed
from core.tests.live_server import live_servers, server_kind
from messaging.consumers import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_IDLE,
    CLOSE_REASONS,
    CLOSE_RIGHTS_CHANGED,
    CLOSE_TOO_MANY,
    FLOOD_REASON,
    REVOKED_REASON,
)
from messaging.tests.factories import make_conversation

pytestmark = pytest.mark.django_db(transaction=True)

FRONT_END = "https://app.example.com"
CAP = 2
PING_TIMEOUT_MS = 3000
FRAME_BYTES = 1024
RATE = 10


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    """One production server for the module (starting one takes seconds); each test makes its own users."""
    with (
        django_db_blocker.unblock(),
        live_servers(
            tmp_path_factory.mktemp("promises"),
            LOG_LEVEL="INFO",
            LOG_FORMAT="json",
            FRONTEND_URL=FRONT_END,
            ALLOWED_WS_ORIGINS=FRONT_END,
            SOCKET_MAX_CONNECTIONS_PER_USER=str(CAP),
            SOCKET_PING_TIMEOUT=str(PING_TIMEOUT_MS),
            SOCKET_MAX_FRAME_BYTES=str(FRAME_BYTES),
            SOCKET_RATE_LIMIT=str(RATE),
        ) as ((port,), (log,)),
    ):
        yield port, log


@pytest.fixture
def people():
    a = ConsultantFactory()
    b = ConsultantFactory(office=a.office)
    make_conversation(a, b, office=a.office)
    return a, b


def url(port: int, token: str | None = None) -> str:
    return f"ws://127.0.0.1:{port}/ws/" + (f"?token={token}" if token else "")


async def closed_with(ws, timeout: float = 10) -> tuple[int | None, str]:
    """(code, reason) the server closes `ws` with; frames before it are read and dropped."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        return (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")


async def close_of(address: str, **options) -> tuple[int | None, str]:
    async with ws_connect(address, **options) as ws:
        return await closed_with(ws)


async def refused_with(address: str, **options) -> tuple[int, dict]:
    """(HTTP status, error body) of a handshake the server refuses: nothing opens."""
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(address, **options):
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body or b"{}")


ORIGIN_REFUSED = (CLOSE_FORBIDDEN_ORIGIN, CLOSE_REASONS[CLOSE_FORBIDDEN_ORIGIN])


async def answer(ws, event: str, data: dict | None = None, request_id: str = "r") -> dict:
    await ws.send(json.dumps({"event": event, "id": request_id, "data": data or {}}))
    return await reply(ws, request_id)


async def reply(ws, request_id: str, timeout: float = 5) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("id") == request_id:
            return frame


def console_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_every_close_code_reaches_the_client_with_its_reason(server, people):
    port, _ = server
    consultant, other = people
    token, other_token = access_token_for(consultant), access_token_for(other)

    async def scenario():
        # no token or a bad one: refused in the handshake (401, the reason in the one error shape)
        for address in (url(port, "not-a-token"), url(port)):
            status, body = await refused_with(address)
            assert (status, body["error"]["code"]) == (401, "token_invalid")
            assert body["error"]["message"] == CLOSE_REASONS[4401]
        assert await close_of(url(port, token), origin="https://evil.example.com") == ORIGIN_REFUSED
        # a live socket: deactivation (4401) and a change of rights (4409), pushed by the write
        for push, closed in (
            (disconnect_user, (4401, REVOKED_REASON)),
            (rights_changed, (CLOSE_RIGHTS_CHANGED, CLOSE_REASONS[CLOSE_RIGHTS_CHANGED])),
        ):
            async with ws_connect(url(port, other_token)) as ws:
                assert (await answer(ws, "ping"))["event"] == "ack"
                await asyncio.to_thread(push, other.pk)
                assert await closed_with(ws, 5) == closed

    asyncio.run(scenario())


def test_origins_token_sockets_and_console_session_sockets(server, people):
    port, _ = server
    consultant, _ = people
    token = access_token_for(consultant)
    cookie = {"Cookie": f"sessionid={console_cookie(ManagerFactory(office=consultant.office))}"}
    own = f"http://127.0.0.1:{port}"

    async def opens(address: str, **options) -> bool:
        """True when the socket answers a ping; False when it is closed with 4403."""
        async with ws_connect(address, **options) as ws:
            try:
                return (await answer(ws, "ping"))["event"] == "ack"
            except ConnectionClosed:
                pass
            assert (ws.close_code, ws.close_reason) == ORIGIN_REFUSED, ws.close_code
            return False

    async def scenario():
        # token sockets: the front end, the server's own pages, or no Origin (mobile apps)
        assert await opens(url(port, token), origin=FRONT_END)
        assert await opens(url(port, token), origin=own)
        assert await opens(url(port, token))
        assert not await opens(url(port, token), origin="https://evil.example.com")
        assert not await opens(url(port, token), origin=f"https://127.0.0.1:{port}")  # another scheme
        # console session sockets: the server's own pages only
        assert await opens(url(port), origin=own, additional_headers=cookie)
        assert not await opens(url(port), origin=FRONT_END, additional_headers=cookie)
        assert not await opens(url(port), additional_headers=cookie)

    asyncio.run(scenario())


def test_the_connection_cap_counts_every_socket_of_the_user(server, people):
    port, _ = server
    token = access_token_for(people[0])

    async def scenario():
        held = [await ws_connect(url(port, token)) for _ in range(CAP)]
        for ws in held:
            assert (await answer(ws, "ping"))["event"] == "ack"
        assert await close_of(url(port, token)) == (CLOSE_TOO_MANY, CLOSE_REASONS[CLOSE_TOO_MANY])
        await held[0].close()
        for _ in range(20):  # the slot is given back once the server has seen the close
            async with ws_connect(url(port, token)) as again:
                try:
                    assert (await answer(again, "ping"))["event"] == "ack"
                    break
                except ConnectionClosed:
                    assert again.close_code == 4429
            await asyncio.sleep(0.25)
        else:
            raise AssertionError("the closed socket's slot was never given back")
        for ws in held[1:]:
            await ws.close()

    asyncio.run(scenario())


def test_a_flood_of_frames_closes_the_socket_with_4429(server, people):
    port, _ = server
    token = access_token_for(people[0])

    async def scenario():
        async with ws_connect(url(port, token)) as ws:
            for n in range(10 * RATE):
                try:
                    await ws.send(json.dumps({"event": "ping", "id": str(n)}))
                except ConnectionClosed:
                    break
            assert await closed_with(ws, 5) == (CLOSE_TOO_MANY, FLOOD_REASON)

    asyncio.run(scenario())


def test_pushed_frames_reach_every_socket_in_seq_order(server):
    """Four members send at once, each without waiting for its acks; every socket sees each message
    once, in `seq` order, none missing. Failed on the code before: a release of held messages was pushed
    one wait at a time (another task's frame got in between), and granian writes frames handed to it
    while one is being written in either order (`core.edge` now hands them over one at a time)."""
    members = ConsultantFactory.create_batch(5)
    chat = make_conversation(*members, office=members[0].office)
    tokens = [access_token_for(member) for member in members]
    per_sender = RATE - 1  # (under the frame rate limit)
    total = per_sender * 4

    async def scenario():
        sockets = [await ws_connect(url(port, token)) for token in tokens]
        for ws in sockets:
            assert json.loads(await ws.recv())["event"] == "ready"

        async def seqs_seen(ws) -> list[int]:
            seen: list[int] = []
            while len(seen) < total:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if frame["event"] == "message_received":
                    seen.append(frame["data"]["seq"])
            return seen

        readers = [asyncio.create_task(seqs_seen(ws)) for ws in sockets]
        for n in range(per_sender):
            for sender, ws in enumerate(sockets[:4]):
                frame = {"conversation_id": chat.pk, "content": f"{sender}.{n}", "client_id": f"{sender}.{n}"}
                await ws.send(json.dumps({"event": "send_message", "id": f"{sender}.{n}", "data": frame}))
        seen = await asyncio.gather(*readers)
        for ws in sockets:
            await ws.close()
        return seen

    port, _ = server
    for seqs in asyncio.run(scenario()):
        assert seqs == list(range(1, total + 1))


def test_a_silent_socket_is_closed_with_4408_and_pings_keep_one_open(server, people):
    port, _ = server
    tokens = [access_token_for(person) for person in people]

    async def scenario():
        async with (
            ws_connect(url(port, tokens[0])) as silent,
            ws_connect(url(port, tokens[1])) as pinging,
        ):
            started = time.monotonic()
            for n in range(8):  # a ping every half of the timeout, as clients are told to
                assert (await answer(pinging, "ping", request_id=str(n)))["event"] == "ack"
                await asyncio.sleep(PING_TIMEOUT_MS / 2000)
                if silent.close_code is not None:
                    break
            assert await closed_with(silent, 1) == (CLOSE_IDLE, CLOSE_REASONS[CLOSE_IDLE])
            waited = time.monotonic() - started
            assert PING_TIMEOUT_MS / 1000 <= waited <= PING_TIMEOUT_MS / 1000 * 2.5
            assert (await answer(pinging, "ping", request_id="still"))["event"] == "ack"

    asyncio.run(scenario())


def frame_of(total_bytes: int, char: str = "x") -> str:
    """A valid `ping` frame of exactly `total_bytes` bytes of UTF-8, padded with `char`."""
    empty = json.dumps({"event": "ping", "id": "big", "data": {"pad": ""}}, ensure_ascii=False)
    room = total_bytes - len(empty.encode())
    pad = char * (room // len(char.encode())) + "x" * (room % len(char.encode()))
    frame = json.dumps({"event": "ping", "id": "big", "data": {"pad": pad}}, ensure_ascii=False)
    assert len(frame.encode()) == total_bytes
    return frame


def test_frame_size_limits_are_bytes_of_utf8_and_a_refused_frame_keeps_the_socket(server, people):
    port, _ = server
    token = access_token_for(people[0])

    async def scenario():
        async with ws_connect(url(port, token), max_size=None) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["event"] == "ready"
            for frame, accepted in (
                (frame_of(FRAME_BYTES), True),
                (frame_of(FRAME_BYTES + 1), False),
                (frame_of(FRAME_BYTES, "é"), True),  # 2 bytes each: half as many characters
                (frame_of(FRAME_BYTES + 2, "é"), False),  # fewer characters than the limit, more bytes
                ("x" * (512 * 1024), False),  # far over (within both servers' own limits): the socket stays
            ):
                await ws.send(frame)
                got = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if accepted:
                    assert (got["event"], got["id"]) == ("ack", "big")
                else:
                    assert got["event"] == "error" and got["data"]["code"] == "frame_too_large"
                    assert str(FRAME_BYTES) in got["data"]["message"]
            await ws.send(b"\x00" * (FRAME_BYTES + 1))  # binary: not JSON text
            got = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert got["data"]["code"] == "frame_too_large"
            assert (await answer(ws, "ping", request_id="after"))["event"] == "ack"
            await asyncio.sleep(1)  # out of the rate limit's second

    asyncio.run(scenario())


@pytest.mark.skipif(server_kind() != "granian", reason="granian's own frame limit (daphne reads any size)")
def test_a_frame_past_the_servers_own_limit_ends_the_connection(server, people):
    """A tripwire on granian's WebSocket engine (tungstenite's defaults, not configurable from
    granian): a frame over 16 MiB is not read at all; the connection ends without a close frame (the
    client sees 1006). Under that, the app refuses with frame_too_large and the socket stays (above).
    daphne's limit was 1 MiB (frame and message). docs/websocket.md says both."""
    port, _ = server
    token = access_token_for(people[0])

    async def scenario():
        ws = await ws_connect(url(port, token), max_size=None)
        try:
            await ws.send("x" * (16 * 1024 * 1024 + 1))
            code, _ = await closed_with(ws, 10)
        except (ConnectionClosed, OSError):  # reset while the frame was still being written
            code = None
        assert code in (None, 1005, 1006)
        await asyncio.wait_for(ws.wait_closed(), 10)

    asyncio.run(scenario())


def access_lines(log) -> list[dict]:
    log.seek(0)
    lines = []
    for line in log:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("name") == "crm.access":
            lines.append(record)
    return lines


def test_the_access_log_masks_tokens_and_ignores_forwarded_headers_from_anyone_but_a_proxy(server, people):
    """No TRUSTED_PROXIES: X-Forwarded-For and X-Forwarded-Proto from a client change nothing."""
    port, log = server
    token = access_token_for(people[0])
    forged = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}

    async def scenario():
        async with ws_connect(f"{url(port, token)}&marker=forged", additional_headers=forged) as ws:
            assert (await answer(ws, "ping"))["event"] == "ack"
        await asyncio.sleep(0.3)

    asyncio.run(scenario())
    lines = [line for line in access_lines(log) if "marker=forged" in line["path"]]
    assert [line["method"] for line in lines] == ["WSCONNECT", "WSDISCONNECT"]
    assert {(line["client"], line["scheme"]) for line in lines} == {("127.0.0.1", "ws")}
    assert all("token=[redacted]" in line["path"] for line in lines)
    log.seek(0)
    assert token not in log.read() and token.split(".")[2] not in log.read()


def test_forwarded_headers_from_a_trusted_proxy_name_the_client_and_the_scheme(tmp_path, people):
    consultant, _ = people
    manager = ManagerFactory(office=consultant.office)
    cookie = {"Cookie": f"sessionid={console_cookie(manager)}"}
    with live_servers(tmp_path, TRUSTED_PROXIES="127.0.0.1", LOG_LEVEL="INFO", LOG_FORMAT="json") as ((port,), (log,)):
        host = f"127.0.0.1:{port}"
        proxied = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", **cookie}

        async def scenario():
            # behind a TLS proxy the console's pages are https://host: the session socket's own origin
            async with ws_connect(url(port), origin=f"https://{host}", additional_headers=proxied) as ws:
                assert (await answer(ws, "ping"))["event"] == "ack"
            assert await close_of(url(port), origin=f"http://{host}", additional_headers=proxied) == ORIGIN_REFUSED
            await asyncio.sleep(0.3)

        asyncio.run(scenario())
        lines = [line for line in access_lines(log) if line["path"].startswith("/ws/")]
    assert lines and {(line["client"], line["scheme"]) for line in lines} == {("203.0.113.7", "wss")}
