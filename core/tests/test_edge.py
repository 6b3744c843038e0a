"""Who the client is: the connection's own address, or a trusted proxy's X-Forwarded-For, never anyone
else's. Requests go through the real ASGI application (core.edge in front of Django and the socket)."""

import json
import logging
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from accounts.tests.factories import PASSWORD, ConsultantFactory
from conftest import access_token_for
from core.edge import resolve
from crm_project.asgi import application
from offices.tests.factories import OfficeFactory

PROXY = "10.1.2.3"


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),  # nobody trusted: the header is ignored
        ("203.0.113.9", "1.2.3.4", ("10.0.0.0/8",), "203.0.113.9"),  # a stranger's header, even with proxies configured
        (PROXY, "198.51.100.7", ("10.0.0.0/8",), "198.51.100.7"),
        (
            PROXY,
            "6.6.6.6, 198.51.100.7",
            ("10.0.0.0/8",),
            "198.51.100.7",
        ),  # the client's own claim (6.6.6.6) is not believed
        (PROXY, "198.51.100.7, 10.9.9.9", ("10.0.0.0/8",), "198.51.100.7"),  # two proxies of ours in a row
        (PROXY, "10.9.9.8, 10.9.9.9", ("10.0.0.0/8",), "10.9.9.8"),  # all ours: the farthest one
        (PROXY, "not-an-address", ("10.0.0.0/8",), PROXY),
        (PROXY, "", ("10.0.0.0/8",), PROXY),
        ("::1", "2001:db8::5", ("::1",), "2001:db8::5"),
    ],
)
def test_resolve_the_client_address(peer, forwarded, trusted, expected):
    scope = {
        "type": "http",
        "client": (peer, 5000),
        "scheme": "http",
        "headers": [(b"x-forwarded-for", forwarded.encode())],
    }
    assert resolve(scope, trusted)[0] == expected


@pytest.mark.parametrize(
    "peer, proto, kind, expected",
    [
        ("203.0.113.9", "https", "http", "http"),  # a stranger cannot claim TLS
        (PROXY, "https", "http", "https"),
        (PROXY, "https", "websocket", "wss"),
        (PROXY, "http", "websocket", "ws"),
        (PROXY, "gopher", "http", "http"),
    ],
)
def test_resolve_the_scheme(peer, proto, kind, expected):
    scope = {
        "type": kind,
        "client": (peer, 5000),
        "scheme": "ws" if kind == "websocket" else "http",
        "headers": [(b"x-forwarded-proto", proto.encode())],
    }
    assert resolve(scope, ("10.0.0.0/8",))[1] == expected


@pytest.mark.parametrize(
    "forwarded, expected",
    [
        ("198.51.100.7:52100", "198.51.100.7"),  # a proxy that writes ip:port (IIS, some load balancers)
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("[2001:db8::7]", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),  # a bare IPv6 address is not ip:port
        ("6.6.6.6, 198.51.100.7:52100", "198.51.100.7"),
        ("198.51.100.7:52100, 10.9.9.9:8080", "198.51.100.7"),  # our own hops with ports are skipped too
        ("198.51.100.7:99999", PROXY),  # not a port: unparsable, the walk stops at the last trusted hop
        ("198.51.100.7:", PROXY),
        ("[2001:db8::7", PROXY),
    ],
)
def test_an_address_with_a_port_is_the_client_not_the_proxy(forwarded, expected):
    scope = {"type": "http", "client": (PROXY, 5000), "scheme": "http"}
    scope["headers"] = [(b"x-forwarded-for", forwarded.encode())]
    assert resolve(scope, ("10.0.0.0/8",))[0] == expected


@pytest.mark.parametrize(
    "forwarded, proto, expected",
    [
        ("198.51.100.7", "https, http", "http"),  # the client wrote "https"; our proxy appended what it saw
        ("198.51.100.7", "http, https", "https"),
        ("198.51.100.7", "https", "https"),  # a proxy that sets (replaces) the header
        ("198.51.100.7, 10.9.9.9", "https, http", "https"),  # two proxies of ours: the first one's value
        ("198.51.100.7, 10.9.9.9", "http, https, http", "https"),  # and the client's own claim before it
        ("198.51.100.7, 10.9.9.9", "https", "https"),  # the outer proxy set it, the inner one passed it on
    ],
)
def test_the_scheme_is_the_one_our_proxy_appended_not_the_clients(forwarded, proto, expected):
    scope = {"type": "http", "client": (PROXY, 5000), "scheme": "http"}
    scope["headers"] = [(b"x-forwarded-for", forwarded.encode()), (b"x-forwarded-proto", proto.encode())]
    assert resolve(scope, ("10.0.0.0/8",))[1] == expected


async def asgi_call(method, path, *, peer, headers=(), body=b"", query=b""):
    """One HTTP request through the whole ASGI application from `peer`; (status, headers, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"testserver"), (b"content-length", str(len(body)).encode()), *headers],
        "client": (peer, 40000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": body})
    start = await communicator.receive_output(10)
    content = b""
    while True:
        chunk = await communicator.receive_output(10)
        content += chunk.get("body", b"")
        if not chunk.get("more_body"):
            return start["status"], start["headers"], content


async def asgi_post(path, data, *, peer, forwarded=None):
    headers = [(b"content-type", b"application/json")] + (
        [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    )
    return (await asgi_call("POST", path, peer=peer, headers=headers, body=json.dumps(data).encode()))[0]


def login_attempts(n, *, peer, forwarded):
    return [
        async_to_sync(asgi_post)(
            "/api/v1/auth/login", {"email": f"u{i}@example.com", "password": "x"}, peer=peer, forwarded=forwarded(i)
        )
        for i in range(n)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_spoofed_forwarded_for_does_not_escape_the_address_limit(settings):
    settings.TRUSTED_PROXIES = []
    settings.AXES_FAILURE_LIMIT = 1000  # the DRF per-address limit (20/min) is what is tried here
    statuses = login_attempts(25, peer="203.0.113.9", forwarded=lambda i: f"198.51.100.{i}")
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5


@pytest.mark.django_db(transaction=True)
def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.AXES_FAILURE_LIMIT = 1000
    # the proxy appends the address it saw; what the client itself sent in front is not believed
    statuses = login_attempts(25, peer=PROXY, forwarded=lambda i: f"6.6.6.{i}, 198.51.100.7")
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5
    # and different clients behind the same proxy do not share a limit
    assert set(login_attempts(3, peer=PROXY, forwarded=lambda i: f"198.51.100.{100 + i}")) == {401}


@pytest.mark.django_db(transaction=True)
def test_the_admin_lockout_counts_the_real_address(settings, office):
    settings.TRUSTED_PROXIES = []
    staff = ConsultantFactory(office=office)

    async def admin_login(email, password, forwarded):
        spoofed = [(b"x-forwarded-for", forwarded.encode())]
        _, headers, _ = await asgi_call("GET", "/admin/login/", peer="203.0.113.20", headers=spoofed)
        cookie = SimpleCookie({k.lower(): v for k, v in headers}[b"set-cookie"].decode())["csrftoken"].value
        body = urlencode({"username": email, "password": password, "csrfmiddlewaretoken": cookie}).encode()
        status, _, _ = await asgi_call(
            "POST",
            "/admin/login/",
            peer="203.0.113.20",
            body=body,
            headers=[
                *spoofed,
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"cookie", f"csrftoken={cookie}".encode()),
            ],
        )
        return status

    assert [
        async_to_sync(admin_login)(f"guess{n}@example.com", "x", f"198.51.100.{n}")
        for n in range(settings.AXES_FAILURE_LIMIT)
    ][-2:] == [200, 429]
    assert async_to_sync(admin_login)(staff.email, PASSWORD, "192.0.2.200") == 429


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    "peer, proto, origin, allowed",
    [
        ("203.0.113.9", None, "http://crm.example.com", True),
        ("203.0.113.9", None, "https://crm.example.com", False),  # the socket did not arrive over TLS
        ("203.0.113.9", "https", "https://crm.example.com", False),  # a stranger's X-Forwarded-Proto is ignored
        (PROXY, "https", "https://crm.example.com", True),  # our TLS proxy says it was https
        (PROXY, "https", "http://crm.example.com", False),
        (PROXY, "https", "https://crm.example.com:8443", False),
    ],
)
async def test_the_socket_sees_the_decided_client_and_scheme(peer, proto, origin, allowed, caplog):
    def make_token():
        return access_token_for(ConsultantFactory(office=OfficeFactory()))

    token = await database_sync_to_async(make_token)()
    headers = [
        (b"host", b"crm.example.com"),
        (b"origin", origin.encode()),
        (b"x-forwarded-for", b"6.6.6.6, 198.51.100.44"),
    ]
    if proto:
        headers.append((b"x-forwarded-proto", proto.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/?token={token}", headers=headers)
    communicator.scope["client"] = (peer, 40000)
    with (
        override_settings(TRUSTED_PROXIES=["10.0.0.0/8"], ALLOWED_WS_ORIGINS=[]),
        caplog.at_level(logging.INFO, "crm.access"),
    ):
        connected, _ = await communicator.connect()
        assert connected
        if allowed:
            assert (await communicator.receive_json_from(timeout=3))["event"] == "ready"
            await communicator.send_json_to({"event": "ping", "id": "p"})
            assert (await communicator.receive_json_from(timeout=3))["event"] == "ack"
        else:
            closed = await communicator.receive_output(timeout=3)
            assert closed["type"] == "websocket.close" and closed["code"] == 4403
        await communicator.disconnect()
    clients = {record.client for record in caplog.records if record.name == "crm.access"}
    assert clients == {"198.51.100.44" if peer == PROXY else peer}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("peer, expected", [("203.0.113.9", "http://"), (PROXY, "https://")])
def test_django_builds_links_with_the_decided_scheme(settings, peer, expected, manager, consultant, receptionist):
    """request.scheme (links, the HTTPS redirect, secure cookies) follows X-Forwarded-Proto from a trusted proxy
    only: production no longer sets SECURE_PROXY_SSL_HEADER, which would believe it from anyone."""
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    headers = [(b"authorization", f"Bearer {access_token_for(manager)}".encode()), (b"x-forwarded-proto", b"https")]

    status, _, body = async_to_sync(asgi_call)("GET", "/api/v1/users", peer=peer, headers=headers, query=b"limit=1")
    assert status == 200 and json.loads(body)["next"].startswith(expected + "testserver/api/v1/users")
