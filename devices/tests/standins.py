"""Real parts for push and email tests: servers on loopback that stand in for the push providers and
the mail server, answering as the real ones do, and a real Celery worker.

- `WebPushEndpoint`: a browser's push service. It decrypts what arrives with the subscription's
  private key (RFC 8291, http_ece) and checks the VAPID signature against our public key.
- `FcmStandIn`: Google's OAuth token endpoint and FCM HTTP v1 `messages:send`, answering success,
  404 UNREGISTERED or 429 QUOTA_EXCEEDED as FCM does; firebase-admin reaches it through a service
  account whose `token_uri` is ours and FCM_ENDPOINT.
- `ApnsStandIn`: APNs over HTTP/2 and TLS (h2), answering 200, 410 Unregistered or 429
  TooManyRequests; aioapns reaches it through APNS_ENDPOINT and a CA the test trusts.
- `SmtpInbox`: aiosmtpd on loopback; messages parsed with the stdlib.
- `running_worker()`: celery's own test worker on the real Redis, in this process.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import email
import email.policy
import ipaddress
import json
import os
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from core.tests.live_server import free_port


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_pair() -> tuple[str, str]:
    """(private key as base64url DER, public key as base64url point), as `manage.py vapid_keys` prints."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(private), b64url(public)


def wait_for(condition: Any, timeout: float = 15.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return condition()


class _Server:
    """A threaded HTTP server on loopback whose handler calls `self.handle(request)`."""

    def __init__(self) -> None:
        self.port = free_port()
        self.local = threading.local()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as FCM and the Web Push services do

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.local.connection = self.connection  # this request's socket, for handlers that look
                status, headers, answer = owner.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # socketserver's 5 stalls a burst of new connections for a second

        self.server = Server(("127.0.0.1", self.port), Handler)
        # Looks for shutdown every 50 ms (socketserver's 0.5 s is half a second of every test's teardown).
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class WebPushEndpoint(_Server):
    """A push service. `subscription(name)` makes a browser's subscription (keys kept here to decrypt);
    `answers[name]` lists statuses to answer in turn (then 201). Every push is kept in `received`:
    {name, plaintext (decrypted JSON), vapid (checked claims), headers, at}."""

    def __init__(self, vapid_public_key: str, subject: str) -> None:
        super().__init__()
        self.vapid_public_key = vapid_public_key
        self.subject = subject
        self.keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self.answers: dict[str, list[int]] = {}
        self.received: list[dict[str, Any]] = []
        self.delay = 0.0  # seconds before answering: a slow push service, for killing a worker mid-burst
        self.lock = threading.Lock()
        self.dropped = 0  # requests whose sender vanished before the answer: not delivered
        self.waiting: set[float] = set()  # when each request now held by `delay` arrived

    def subscription(self, name: str) -> dict[str, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.keys[name] = (key, auth)
        public = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.subscription_endpoint(name), "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def mid_request(self, at_least: float = 0.03) -> bool:
        """A request is being held and has been for `at_least` seconds: its sender is waiting for us."""
        with self.lock:
            return any(time.monotonic() - started >= at_least for started in self.waiting)

    def subscription_endpoint(self, name: str) -> str:
        return f"{self.base}/push/{name}"

    def for_(self, name: str) -> list[dict[str, Any]]:
        return [push for push in self.received if push["name"] == name]

    def _vapid_claims(self, headers: dict[str, str]) -> dict[str, Any]:
        authorization = headers.get("authorization", "")
        assert authorization.startswith("vapid "), authorization
        fields = dict(part.strip().split("=", 1) for part in authorization[len("vapid ") :].split(","))
        assert fields["k"] == self.vapid_public_key, "signed with another key than the one served to browsers"
        header, payload, signature = fields["t"].split(".")
        raw = unb64url(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
        claims = json.loads(unb64url(payload))
        assert claims["aud"] == self.base and claims["sub"] == self.subject and claims["exp"] > time.time()
        return claims

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        arrived = time.time()
        name = path.rsplit("/", 1)[-1]
        if self.delay:
            connection = self.local.connection
            started = time.monotonic()
            with self.lock:
                self.waiting.add(started)
            time.sleep(self.delay)
            with self.lock:
                self.waiting.discard(started)
            if _closed(connection):  # the sender died waiting: it never learns of a 201, nor do we deliver
                with self.lock:
                    self.dropped += 1
                return 503, {}, b""
        with self.lock:
            queued = self.answers.get(name) or []
            status = queued.pop(0) if queued else 201
        if name not in self.keys:
            return 404, {}, b""
        if status == 201:
            key, auth = self.keys[name]
            plaintext = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
            push = {
                "name": name,
                "plaintext": json.loads(plaintext),
                "vapid": self._vapid_claims(headers),
                "headers": headers,
                "arrived": arrived,
                "at": time.time(),
            }
            with self.lock:
                self.received.append(push)
        extra = {"Retry-After": "1"} if status == 429 else {}
        if 300 <= status < 400:
            extra = {"Location": "http://127.0.0.1:9/elsewhere"}
        return status, extra, b""


def _closed(connection: Any) -> bool:
    import select  # noqa: PLC0415
    import socket  # noqa: PLC0415

    readable, _, _ = select.select([connection], [], [], 0)
    if not readable:
        return False
    try:
        return connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class FcmStandIn(_Server):
    """Google's token endpoint and FCM HTTP v1. A token starting "dead" is UNREGISTERED; one starting
    "throttled" gets 429 QUOTA_EXCEEDED the first time."""

    project = "crm-test"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict[str, Any]] = []
        self.throttled: set[str] = set()
        self.lock = threading.Lock()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(
            {
                "type": "service_account",
                "project_id": self.project,
                "private_key_id": "stand-in",
                "private_key": pem.decode(),
                "client_email": f"push@{self.project}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{self.base}/token",
            },
            handle,
        )
        handle.close()
        self.credentials_file = handle.name

    @property
    def endpoint(self) -> str:
        return f"{self.base}/v1/projects/{{project}}/messages:send"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/token":
            answer = {"access_token": "stand-in-access", "expires_in": 3600, "token_type": "Bearer"}
            return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()
        assert path == f"/v1/projects/{self.project}/messages:send", path
        assert headers.get("authorization") == "Bearer stand-in-access"
        message = json.loads(body)["message"]
        token = message["token"]
        if token.startswith("dead"):
            return _fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
        with self.lock:
            if token.startswith("throttled") and token not in self.throttled:
                self.throttled.add(token)
                return _fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.")
            self.sent.append(message)
        answer = {"name": f"projects/{self.project}/messages/{len(self.sent)}"}
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def _fcm_error(status: int, name: str, code: str, text: str) -> tuple[int, dict[str, str], bytes]:
    body = {
        "error": {
            "code": status,
            "message": text,
            "status": name,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}],
        }
    }
    return status, {"Content-Type": "application/json", "Retry-After": "1"}, json.dumps(body).encode()


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    # Valid for decades both ways: OpenSSL checks it against the machine's real clock, while the tests'
    # clock (CRM_TEST_CLOCK, time_machine) may be days ahead of it or behind it.
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=3650))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


class ApnsStandIn:
    """APNs: HTTP/2 over TLS on loopback. A token starting "dead" gets 410 Unregistered, one starting
    "throttled" 429 TooManyRequests the first time. `ca_file` is the certificate a client must trust;
    `key_file` an APNs auth key (.p8) to sign with."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sent: list[dict[str, Any]] = []
        self.throttled: set[str] = set()
        cert, key = _self_signed()
        folder = tempfile.mkdtemp(prefix="apns-stand-in-")
        self.ca_file, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
        with open(self.ca_file, "wb") as handle:
            handle.write(cert)
        with open(key_path, "wb") as handle:
            handle.write(key)
        self.key_file = os.path.join(folder, "AuthKey.p8")
        signing = ec.generate_private_key(ec.SECP256R1())
        with open(self.key_file, "wb") as handle:
            handle.write(
                signing.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(self.ca_file, key_path)
        self.context.set_alpn_protocols(["h2"])
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> ApnsStandIn:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(lambda: _ApnsProtocol(self), "127.0.0.1", self.port, ssl=self.context), self.loop
        )
        self.server = future.result(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def answer(self, token: str) -> tuple[int, str | None]:
        if token.startswith("dead"):
            return 410, "Unregistered"
        if token.startswith("throttled") and token not in self.throttled:
            self.throttled.add(token)
            return 429, "TooManyRequests"
        return 200, None


class _ApnsProtocol(asyncio.Protocol):
    def __init__(self, owner: ApnsStandIn) -> None:
        from h2.config import H2Configuration  # noqa: PLC0415
        from h2.connection import H2Connection  # noqa: PLC0415

        self.owner = owner
        self.conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        self.streams: dict[int, dict[str, Any]] = {}

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.conn.initiate_connection()
        transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        from h2 import events  # noqa: PLC0415

        for event in self.conn.receive_data(data):
            if isinstance(event, events.RequestReceived):
                self.streams[event.stream_id] = {"headers": dict(event.headers), "body": b""}
            elif isinstance(event, events.DataReceived):
                self.streams[event.stream_id]["body"] += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, events.StreamEnded):
                self._respond(event.stream_id)
        self.transport.write(self.conn.data_to_send())

    def _respond(self, stream_id: int) -> None:
        stream = self.streams.pop(stream_id)
        headers = stream["headers"]
        token = headers[":path"].rsplit("/", 1)[-1]
        status, reason = self.owner.answer(token)
        apns_id = headers.get("apns-id") or "00000000-0000-0000-0000-000000000000"
        if status == 200:
            assert headers.get("authorization", "").startswith("bearer ")
            self.owner.sent.append({"token": token, "headers": headers, "payload": json.loads(stream["body"])})
            self.conn.send_headers(stream_id, [(":status", "200"), ("apns-id", apns_id)], end_stream=True)
        else:
            body = json.dumps({"reason": reason}).encode()
            self.conn.send_headers(
                stream_id, [(":status", str(status)), ("apns-id", apns_id), ("content-length", str(len(body)))]
            )
            self.conn.send_data(stream_id, body, end_stream=True)


class SmtpInbox:
    """A real SMTP server on loopback; `messages` are parsed `email.message.EmailMessage`s."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def __enter__(self) -> SmtpInbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


class _Jobs:
    """What the worker of `running_worker` has to do: jobs sent from this process, jobs it took from the
    queue (from any process: a live server's too) and jobs it finished. A retry is sent and taken again."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.sent = self.taken = self.finished = 0

    def count(self, name: str) -> Any:
        def add(**_: Any) -> None:
            with self.lock:
                setattr(self, name, getattr(self, name) + 1)

        return add

    def _queued(self) -> int:
        """Jobs waiting in Redis for the worker to take (kombu keeps a queue as a list under its name)."""
        from core import realtime  # noqa: PLC0415

        prefix = self.app.conf.broker_transport_options.get("global_keyprefix", "")
        queued: int = realtime.sync_redis().llen(f"{prefix}{self.app.conf.task_default_queue}")  # type: ignore[assignment]
        return queued

    def settled(self, timeout: float = 15.0) -> None:
        """Wait until every job sent so far, and every job those sent, has run: after this nothing more
        is on its way (the tests' "and nothing else is sent" without sleeping). This process's pending
        pushes (messaging.offline's scheduler) are sent first."""
        from messaging import offline  # noqa: PLC0415

        offline.flush_now()
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                busy = max(self.sent, self.taken) - self.finished
            if busy <= 0 and not self._queued():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker still had jobs to run after {timeout} s")
            time.sleep(0.02)


@contextmanager
def running_worker() -> Any:
    """Celery's test worker (solo pool, in a thread of this process) consuming the tests' queue on the
    real Redis. Database connections the worker thread opened are closed after each job. Yields the
    jobs' counts: `settled()` waits until nothing sent is left to run."""
    from celery.contrib.testing.worker import start_worker  # noqa: PLC0415
    from celery.signals import before_task_publish, task_postrun, task_received  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    from crm_project.celery import app  # noqa: PLC0415

    jobs = _Jobs(app)
    sent, taken, done = jobs.count("sent"), jobs.count("taken"), jobs.count("finished")

    def finished(**_: Any) -> None:
        connections.close_all()
        done()

    before_task_publish.connect(sent, weak=False)
    task_received.connect(taken, weak=False)
    task_postrun.connect(finished, weak=False)
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"
        ):
            yield jobs
    finally:
        task_postrun.disconnect(finished)
        task_received.disconnect(taken)
        before_task_publish.disconnect(sent)
