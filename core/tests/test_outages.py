"""A real server process while Redis or PostgreSQL goes away and comes back: the API keeps working
(or answers a quick 503 in the error shape), /health follows the outage, and the process recovers
on its own, without a restart and without a traceback in its log."""

import asyncio
import json
import time
import uuid
from contextlib import contextmanager

import pytest
import redis
import requests
from django.contrib.postgres.signals import register_type_handlers
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.utils import OperationalError, load_backend
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from accounts.tests.factories import PASSWORD, ConsultantFactory, SuperAdminFactory
from conftest import access_token_for
from core.tests.live_server import TcpProxy, daphne_servers, private_redis
from messaging.models import Message
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)

METRICS_TOKEN = "outage-metrics-token"


class Api:
    """HTTP to one server as one user; every answer is timed."""

    def __init__(self, port: int, token: str | None = None):
        self.base = f"http://127.0.0.1:{port}"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.slowest = 0.0

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        started = time.monotonic()
        response = requests.request(
            method, self.base + path, headers={**self.headers, **kwargs.pop("headers", {})}, timeout=30, **kwargs
        )
        self.slowest = max(self.slowest, time.monotonic() - started)
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.call("POST", path, json=body)


def wait_for_health(api: Api, seconds: float = 15) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if api.get("/health").status_code == 200:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"/health did not answer 200 within {seconds} s")


def assert_unavailable(response: requests.Response, dependency: str) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"dependency": dependency, "retry_after": 5}
    assert response.headers["Retry-After"] == "5"


def console_session(port: int, user) -> requests.Session:
    """A browser signed in to the staff console (a session cookie)."""
    session = requests.Session()
    login = f"http://127.0.0.1:{port}/admin/login/"
    session.get(login, timeout=10)
    signed_in = session.post(
        login,
        data={"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": login},
        timeout=10,
        allow_redirects=False,
    )
    assert signed_in.status_code == 302, signed_in.text[:300]
    assert session.get(f"http://127.0.0.1:{port}/admin/", timeout=10).status_code == 200
    return session


def log_text(logs) -> str:
    text = ""
    for log in logs:
        log.seek(0)
        text += log.read()
    return text


@pytest.fixture
def people():
    office = OfficeFactory(name="Outage")
    admin = SuperAdminFactory()
    sender, other = ConsultantFactory(office=office), ConsultantFactory(office=office)
    conversation = make_conversation(sender, other, office=office)
    return admin, sender, other, conversation


def test_with_redis_down_the_api_keeps_working_and_health_recovers_on_its_own(tmp_path, people):
    admin, sender, other, conversation = people
    with (
        private_redis() as private,
        daphne_servers(
            tmp_path,
            REDIS_URL=private.url,
            METRICS_TOKEN=METRICS_TOKEN,
            RATE_LIMIT_MAX_REQUESTS="30",
            REDIS_TIMEOUT="5",
        ) as (ports, logs),
    ):
        api, staff = Api(ports[0], access_token_for(sender)), Api(ports[0], access_token_for(admin))
        assert api.get("/api/v1/auth/me").status_code == 200
        private.stop()

        # reads, writes, sign-in and the schema work; every send is stored
        for path in (
            "/api/v1/auth/me",
            "/api/v1/conversations",
            "/api/v1/leads",
            f"/api/v1/conversations/{conversation.id}/messages",
        ):
            assert api.get(path).status_code == 200, path
        schema = Api(ports[0], access_token_for(sender)).get("/api/schema")  # slow to build: untimed
        assert schema.status_code == 200
        client_ids = [str(uuid.uuid4()) for _ in range(5)]
        for client_id in client_ids:
            sent = api.post(
                "/api/v1/messages",
                {"conversation_id": conversation.id, "content": "during the outage", "client_id": client_id},
            )
            assert sent.status_code == 201, sent.text
        assert Message.objects.filter(conversation=conversation, client_id__in=client_ids).count() == 5
        login = Api(ports[0]).post("/api/v1/auth/login", {"email": other.email, "password": "wrong-password"})
        assert login.status_code == 401 and login.json()["error"]["code"] == "invalid_credentials"

        # what lives only in Redis answers a clear 503; the metrics keep this process's figures
        assert_unavailable(api.get(f"/api/v1/users/presence?ids={other.id}"), "redis")
        assert_unavailable(staff.get("/socket-stats"), "redis")
        metrics = Api(ports[0], METRICS_TOKEN).get("/metrics")
        assert metrics.status_code == 200
        assert "crm_http_requests_total" in metrics.text and "crm_socket_sockets" not in metrics.text
        health = api.get("/health")
        assert health.status_code == 503 and health.json()["redis"] == "down" and health.json()["database"] == "ok"

        # the rate limit still holds, counted in the process's memory (30 a minute here)
        answers = [api.get("/api/v1/auth/me").status_code for _ in range(30)]
        assert answers.count(429) > 0 and set(answers) == {200, 429}
        assert api.slowest < 2.5, f"a request took {api.slowest:.1f} s while Redis was down (timeout 5 s)"

        private.start()
        wait_for_health(api)
        assert staff.get(f"/api/v1/users/presence?ids={other.id}").status_code == 200
        assert staff.get("/api/v1/auth/me").status_code == 200
        counted = redis.Redis.from_url(private.url)
        assert any(b"throttle" in key for key in counted.scan_iter()), "the limits are counted in Redis again"
        counted.close()
        text = log_text(logs)
    assert "Traceback" not in text and '" 500 ' not in text
    assert text.count("Redis unreachable") == 1, "an outage is logged once, not once per request"
    assert text.count("Redis reachable again") == 1


def test_with_postgresql_down_requests_get_a_quick_503_and_the_pool_recovers(tmp_path, people):
    admin, sender, other, conversation = people
    settings = connection.settings_dict
    proxy = database_proxy()
    database_url = f"postgres://{settings['USER']}@127.0.0.1:{proxy.port}/{settings['NAME']}"
    try:
        with daphne_servers(tmp_path, DATABASE_URL=database_url, METRICS_TOKEN=METRICS_TOKEN, DB_POOL_TIMEOUT="10") as (
            ports,
            logs,
        ):
            api = Api(ports[0], access_token_for(sender))
            for _ in range(3):
                assert api.get("/api/v1/auth/me").status_code == 200
            console = console_session(ports[0], admin)
            proxy.cut()  # every pooled connection breaks, new ones are refused

            api.slowest = 0.0
            history = f"/api/v1/conversations/{conversation.id}/messages"
            for path in ("/api/v1/auth/me", "/api/v1/conversations", history, "/api/v1/auth/me", "/api/v1/leads"):
                assert_unavailable(api.get(path), "database")
            assert_unavailable(
                api.post(
                    "/api/v1/messages", {"conversation_id": conversation.id, "content": "lost?", "client_id": "pg-1"}
                ),
                "database",
            )
            assert_unavailable(
                Api(ports[0]).post("/api/v1/auth/login", {"email": other.email, "password": "x"}), "database"
            )
            health = api.get("/health")
            assert health.status_code == 503 and health.json()["database"] == "down" and health.json()["redis"] == "ok"
            assert Api(ports[0], METRICS_TOKEN).get("/metrics").status_code == 200
            page = console.get(f"http://127.0.0.1:{ports[0]}/admin/", timeout=10)  # its session lives in PostgreSQL
            assert page.status_code == 503 and "Service unavailable" in page.text and page.headers["Retry-After"]
            assert api.slowest < 3, f"a request took {api.slowest:.1f} s while PostgreSQL was down (pool timeout 10 s)"

            proxy.restore()
            recovered_in = wait_for_health(api)
            assert recovered_in < 5
            assert api.get("/api/v1/auth/me").status_code == 200
            sent = api.post(
                "/api/v1/messages", {"conversation_id": conversation.id, "content": "after", "client_id": "pg-1"}
            )
            assert sent.status_code == 201
            text = log_text(logs)
    finally:
        proxy.cut()
    assert "Traceback" not in text and '" 500 ' not in text
    assert text.count("PostgreSQL unreachable") == 1 and text.count("PostgreSQL reachable again") == 1


def test_with_postgresql_down_a_new_socket_is_told_to_try_again_not_a_500(tmp_path, people):
    """Signing a socket in reads the token's user (or the console's session) from PostgreSQL: with it
    down, the handshake is answered and closed with 4503, the documented "reconnect later", for a
    token socket and for a console session socket alike; once it is back, both open."""
    admin, sender, _, _ = people
    settings = connection.settings_dict
    proxy = database_proxy()
    database_url = f"postgres://{settings['USER']}@127.0.0.1:{proxy.port}/{settings['NAME']}"
    token = access_token_for(sender)
    try:
        with daphne_servers(tmp_path, DATABASE_URL=database_url, DB_POOL_TIMEOUT="10") as (ports, logs):
            base = f"127.0.0.1:{ports[0]}"
            console = console_session(ports[0], admin)
            cookie = {"Cookie": f"sessionid={console.cookies['sessionid']}", "Origin": f"http://{base}"}

            async def close_code(**kwargs) -> int | None:
                """The close code of a new socket (None: it opened and answered a ping)."""
                url = f"ws://{base}/ws/" + ("" if kwargs else f"?token={token}")
                async with ws_connect(url, additional_headers=kwargs.get("headers")) as ws:
                    try:
                        await ws.send(json.dumps({"event": "ping", "id": "p"}))
                        while json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] != "ack":
                            pass
                    except ConnectionClosed as closed:
                        return closed.rcvd.code if closed.rcvd else None
                return None

            assert asyncio.run(close_code()) is None and asyncio.run(close_code(headers=cookie)) is None
            proxy.cut()
            for _ in range(4):
                assert asyncio.run(close_code()) == 4503
                assert asyncio.run(close_code(headers=cookie)) == 4503
            proxy.restore()
            wait_for_health(Api(ports[0]))
            assert asyncio.run(close_code()) is None and asyncio.run(close_code(headers=cookie)) is None
            text = log_text(logs)
    finally:
        proxy.cut()
    assert "Traceback" not in text and '" 500 ' not in text
    assert text.count("PostgreSQL unreachable") == 1


def database_proxy() -> TcpProxy:
    settings = connection.settings_dict
    host, port = settings["HOST"] or settings["OPTIONS"].get("host") or "127.0.0.1", int(settings["PORT"] or 5432)
    if host.startswith("/"):  # the embedded PostgreSQL listens on a unix socket in that directory
        return TcpProxy(f"{host}/.s.PGSQL.{port}")
    return TcpProxy((host, port))


@contextmanager
def pooled_wrapper(proxy: TcpProxy, alias: str, **pool):
    """A database connection of our backend (the one settings name) with its own pool, through `proxy`."""
    settings = connection.settings_dict
    options = {key: value for key, value in settings["OPTIONS"].items() if key != "pool"}
    wrapper = load_backend(settings["ENGINE"]).DatabaseWrapper(
        {**settings, "HOST": "127.0.0.1", "PORT": proxy.port, "OPTIONS": {**options, "pool": pool}}, alias
    )
    # contrib.postgres's type handlers look a connection's alias up in settings; this one is the test's own
    connection_created.disconnect(register_type_handlers)
    try:
        yield wrapper
    finally:
        connection_created.connect(register_type_handlers)
        wrapper.close()
        wrapper.close_pool()
        proxy.cut()


def test_a_connection_to_a_database_that_is_down_fails_at_once_and_works_within_a_second_of_its_return():
    """Not DB_POOL_TIMEOUT of waiting for a pool that cannot connect, and no back-off after the return."""
    proxy = database_proxy()
    proxy.cut()
    with pooled_wrapper(proxy, "outage-test", min_size=1, max_size=2, timeout=10) as wrapper:
        for _ in range(5):
            started = time.monotonic()
            with pytest.raises(OperationalError):
                wrapper.ensure_connection()
            assert time.monotonic() - started < 1.5
        proxy.restore()
        returned = time.monotonic()
        while True:
            try:
                wrapper.ensure_connection()
                break
            except OperationalError:
                assert time.monotonic() - returned < 2.5, "still refused 2.5 s after the database came back"
                time.sleep(0.05)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)


def test_a_database_restart_between_two_requests_fails_none_of_them():
    """The pooled connections broke with the restart; the next request gets a new one, not an error."""
    proxy = database_proxy()
    with pooled_wrapper(proxy, "restart-test", min_size=2, max_size=4, timeout=10) as wrapper:
        for _ in range(3):
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
            wrapper.close()  # back to the pool, as at the end of a request
        while (stats := wrapper.pool.get_stats())["pool_available"] < stats["pool_size"]:  # none being made meanwhile
            time.sleep(0.05)
        proxy.cut()
        proxy.restore()
        time.sleep(0.2)
        for _ in range(3):
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT 1")
                assert cursor.fetchone() == (1,)
            wrapper.close()
