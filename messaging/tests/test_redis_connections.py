"""A thousand sockets on one real server process, all pinging at the same moment, round after round
(as clients do after a deploy's reconnect storm): the process's Redis connections, counted by Redis
itself (`CLIENT LIST`), stay within REDIS_MAX_CONNECTIONS, every ping is answered and renews its
socket, and `/metrics` reports the same connections (issue 29)."""

import asyncio
import json
import socket
import threading
import time
import urllib.request

import psutil
import pytest
import redis
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect as ws_connect

from accounts.models import Role, User
from core.tests.live_server import daphne_servers
from messaging.models import Conversation, Participant
from offices.models import Office

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 1000
GROUP = 10
ROUNDS = 5
MAX_CONNECTIONS = 10  # below the default (16), so the cap, not the load, is what holds the count
METRICS_TOKEN = "redis-connections-metrics"


def thousand_people():
    """(user id, access token) of SOCKETS consultants in conversations of GROUP, made in bulk."""
    office = Office.objects.create(name="Thousand")
    users = User.objects.bulk_create(
        [
            User(email=f"t{n}@thousand.example.com", role=Role.CONSULTANT, office=office, password="!")
            for n in range(SOCKETS)
        ]
    )
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(type="group", title=f"t{n}", office=office, last_activity_at=timezone.now())
            for n in range(SOCKETS // GROUP)
        ]
    )
    Participant.objects.bulk_create(
        [Participant(conversation=conversations[n // GROUP], user=user) for n, user in enumerate(users)]
    )
    return [(user.pk, str(AccessToken.for_user(user))) for user in users]


def socket_expiries(user_ids):
    """When each user's sockets expire unless renewed, as the registry holds it in Redis."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    pipe = client.pipeline(transaction=False)
    for user_id in user_ids:
        pipe.zrange(f"{settings.REDIS_NAMESPACE}:ws:sockets:{user_id}", 0, -1, withscores=True)
    expiries = [score for entries in pipe.execute() for _, score in entries]
    client.close()
    return expiries


def worker_pid(port):
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return connection.pid
    raise AssertionError(f"nothing listens on {port}")


class RedisCount:
    """The worker's connections as Redis lists them: by the name each carries (`core.redis_pools`)."""

    def __init__(self, pid):
        self.pid = pid
        self.prefix = f"{settings.REDIS_NAMESPACE}:{socket.gethostname()}:{pid}:"
        self.admin = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
        self.most = 0
        self.stop = threading.Event()

    def named(self):
        return [c for c in self.admin.client_list() if c.get("name", "").startswith(self.prefix)]

    def unnamed(self):
        """The worker's connections (by its own sockets' ports) that carry no name of its own."""
        port = self.admin.connection_pool.connection_kwargs["port"]
        ours = {
            c.laddr.port for c in psutil.Process(self.pid).net_connections("tcp") if c.raddr and c.raddr.port == port
        }
        return [
            c
            for c in self.admin.client_list()
            if int(c["addr"].rsplit(":", 1)[1]) in ours and not c.get("name", "").startswith(self.prefix)
        ]

    def sample(self):
        while not self.stop.is_set():
            self.most = max(self.most, len(self.named()))
            time.sleep(0.05)


def test_a_thousand_sockets_pinging_at_once_stay_within_the_connection_cap(tmp_path):
    people = thousand_people()
    with daphne_servers(
        tmp_path, REDIS_MAX_CONNECTIONS=str(MAX_CONNECTIONS), METRICS_TOKEN=METRICS_TOKEN, LOG_LEVEL="WARNING"
    ) as ((port,), logs):
        count = RedisCount(worker_pid(port))
        sampler = threading.Thread(target=count.sample, daemon=True)
        sampler.start()

        renewed_from = 0

        async def scenario():
            url = f"ws://127.0.0.1:{port}/ws/?token={{}}"
            sockets = []
            for start in range(0, SOCKETS, 50):  # a reconnect storm, fifty at a time
                sockets += await asyncio.gather(
                    *(
                        ws_connect(url.format(token), max_queue=None, ping_interval=None, open_timeout=60)
                        for _, token in people[start : start + 50]
                    )
                )
            answered = []
            for round_ in range(ROUNDS):
                nonlocal renewed_from
                renewed_from = int(time.time() * 1000)
                frame = json.dumps({"event": "ping", "id": f"p{round_}"})
                await asyncio.gather(*(ws.send(frame) for ws in sockets))  # all at once

                async def pong(ws, expected=f"p{round_}"):
                    while True:
                        answer = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if answer.get("id") == expected:
                            return answer["event"] == "ack" and answer["data"] == {"pong": True}

                answered.append(sum(await asyncio.gather(*(pong(ws) for ws in sockets))))
                await asyncio.sleep(0.5)  # the renewals' batch is written
            expiries = await asyncio.to_thread(socket_expiries, [user_id for user_id, _ in people])
            for ws in sockets:
                await ws.close()
            return answered, expiries

        answered, expiries = asyncio.run(scenario())
        count.stop.set()
        sampler.join()

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        metrics = urllib.request.urlopen(request, timeout=10).read().decode()
        named_now, unnamed = count.named(), count.unnamed()
        logs[0].seek(0)
        log = logs[0].read()

    assert answered == [SOCKETS] * ROUNDS  # every ping of every round answered
    assert "Traceback" not in log and "unreachable" not in log  # no wait at the cap timed out
    assert 3 <= count.most <= MAX_CONNECTIONS  # Redis never saw more of the worker's connections than the cap
    assert unnamed == []  # and none of them came from outside the named pools
    opened = sum(
        float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("crm_redis_connections_open{")
    )
    assert 0 < opened <= MAX_CONNECTIONS
    assert opened == len(named_now)  # /metrics counts what Redis sees
    # the last round's pings renewed every socket's entry (what keeps its user online)
    assert len(expiries) == SOCKETS and min(expiries) >= renewed_from + settings.SOCKET_PING_TIMEOUT * 2


@pytest.fixture(autouse=True)
def _enough_descriptors():
    """A thousand client sockets in this process (and the server's in its own)."""
    import resource  # noqa: PLC0415

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"needs 4,096 file descriptors; the hard limit is {hard}")
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
