"""A server process that stops, cleanly or killed outright, stops counting its sockets against
the connection cap, and its users' contacts learn they went offline. Checked by state and order,
not by the clock: one stopped with SIGTERM is marked dead in the registry on its way out; one killed
outright is found dead by a live process's beat (NODE_TTL_MS after its last)."""

import asyncio
import json
import signal

import pytest
import redis
from django.conf import settings
from websockets.asyncio.client import connect as ws_connect

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import server_env, start_daphne, wait_until_serving
from messaging.socket import registry
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)

CAP = 3


async def event(ws, name: str, timeout: float) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame["event"] == name:
            return frame["data"]


async def opened(url: str):
    ws = await ws_connect(url)
    await ws.send(json.dumps({"event": "ping", "id": "p"}))
    await event(ws, "ack", 5)  # a refused socket closes instead (4429)
    return ws


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_a_stopped_process_frees_its_users_sockets_and_reports_them_offline(tmp_path, stop):
    office = OfficeFactory(name="Restarts")
    roaming, contact = ConsultantFactory(office=office), ConsultantFactory(office=office)
    make_conversation(roaming, contact, office=office)
    roaming_token, contact_token = access_token_for(roaming), access_token_for(contact)
    env = server_env(SOCKET_MAX_CONNECTIONS_PER_USER=str(CAP))
    logs = [open(tmp_path / f"daphne-{n}.log", "w+") for n in range(2)]  # noqa: SIM115 - closed in the finally
    (doomed, doomed_port), (survivor, survivor_port) = start_daphne(logs[0], env), start_daphne(logs[1], env)
    try:
        wait_until_serving([doomed_port, survivor_port])

        store = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)

        async def scenario():
            url = "ws://127.0.0.1:{}/ws/?token={}"
            async with ws_connect(url.format(survivor_port, contact_token)) as watcher:
                sockets = [await opened(url.format(doomed_port, roaming_token)) for _ in range(CAP)]
                assert (await event(watcher, "user_status_changed", 5))["status"] == "online"
                held = store.zrange(registry.key("sockets", roaming.id), 0, -1)
                (node,) = {member.split(" ", 1)[0] for member in held}
                assert store.zscore(registry.key("processes"), node) > 0  # alive
                doomed.send_signal(stop)
                await asyncio.to_thread(doomed.wait, 15)
                if stop == signal.SIGTERM:  # marked dead on its way out (or already cleared by the survivor)
                    assert store.zscore(registry.key("processes"), node) in (0, None)
                offline = await event(watcher, "user_status_changed", 15)
                assert (offline["user_id"], offline["status"]) == (roaming.id, "offline")
                # the stopped process's sockets are gone: every client reconnects to the survivor, up to the cap
                assert store.zrange(registry.key("sockets", roaming.id), 0, -1) == []
                again = [await opened(url.format(survivor_port, roaming_token)) for _ in range(CAP)]
                for ws in sockets + again:
                    await ws.close()

        asyncio.run(scenario())
        store.close()
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.terminate()
                process.wait(10)
        for log in logs:
            log.close()
