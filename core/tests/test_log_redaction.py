"""No token in any log line: the redacting filter on every record, and a real server's whole output."""

import asyncio
import io
import json
import logging
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.test import RequestFactory
from pythonjsonlogger.json import JsonFormatter
from websockets.asyncio.client import connect as ws_connect

from conftest import access_token_for
from core.logging import RedactTokensFilter, redact
from core.tests.live_server import ROOT, daphne_servers, server_env

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo0Mn0.c2lnbmF0dXJlLXNlY3JldA"


@pytest.mark.parametrize(
    "text",
    [
        f"GET /ws/?token={JWT} HTTP/1.1",
        f"/api/v1/x?a=1&access_token={JWT}&b=2",
        f"Authorization: Bearer {JWT}",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "{'HTTP_AUTHORIZATION': 'Token s3cr3t-api-key', 'HTTP_HOST': 'x'}",
        f'{{"access": "{JWT}", "refresh": "{JWT}"}}',
        f"Given token not valid: {JWT}",
        "GET /accounts/google/login/callback/?state=abc&code=4/0AfJohXsecretcode",
    ],
)
def test_redact_masks_tokens_in_any_spelling(text):
    cleaned = redact(text)
    assert JWT not in cleaned and "s3cr3t" not in cleaned and "dXNlcjpw" not in cleaned
    assert "4/0AfJohX" not in cleaned and "[redacted]" in cleaned


ESCAPED_JWT = JWT.replace(".", "%2E")


@pytest.mark.parametrize(
    "text",
    [
        f"/ws/?%74oken={ESCAPED_JWT}",  # what the server decodes to token=<JWT>, and authenticates
        f"/ws/?%74%6F%6B%65%6E={JWT}",
        f"/ws/?TOKEN={ESCAPED_JWT}",
        f"/api/v1/x?a=1&access%5Ftoken={JWT}",
        f"/ws/?token={ESCAPED_JWT}",
        f"/ws/?tok%2565n={JWT.replace('.', '%252E')}",  # escaped twice: masked all the same
        "/accounts/google/login/callback/?state=abc&c%6Fde=4%2F0AfJohXsecretcode",
        "sessi%6Fnid=abc123secret; csrftoken=x",
    ],
)
def test_redact_masks_names_and_values_after_decoding_them(text):
    cleaned = redact(text)
    assert "[redacted]" in cleaned, cleaned
    for secret in ("eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJlLXNlY3JldA", "0AfJohX", "abc123secret"):
        assert secret not in cleaned, cleaned


def test_a_line_with_escapes_and_no_secret_is_left_as_it_is():
    for text in ("/api/v1/leads?q=caf%C3%A9&status=new", "GET /search?q=100%25 ok", "50% done"):
        assert redact(text) == text


def emit(record_kwargs, *, exc_info=None, extra=None) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactTokensFilter())
    logger = logging.getLogger("test.redaction")
    logger.propagate, logger.handlers = False, [handler]
    logger.error(*record_kwargs, exc_info=exc_info, extra=extra)
    return stream.getvalue()


def test_extra_fields_requests_and_tracebacks_are_masked():
    request = RequestFactory().get("/ws/", {"token": JWT}, HTTP_AUTHORIZATION=f"Bearer {JWT}")
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        line = emit(
            ("Not Found: %s", request.get_full_path()),
            exc_info=sys.exc_info(),
            extra={
                "request": request,
                "status_code": 404,
                "headers": {"Authorization": f"Bearer {JWT}"},
                "items": [f"token={JWT}"],
            },
        )
    assert JWT not in line and "c2lnbmF0dXJl" not in line
    body = json.loads(line)
    assert body["request"] == "GET /ws/?token=[redacted]"
    assert body["status_code"] == 404 and "ValueError: bad token [redacted]" in body["exc_info"]
    assert body["message"] == "Not Found: /ws/?token=[redacted]"


@pytest.mark.django_db(transaction=True)
def test_a_real_server_writes_no_token_anywhere(tmp_path, consultant):
    token = access_token_for(consultant)
    signature = token.rsplit(".", 1)[1]
    with daphne_servers(tmp_path, LOG_LEVEL="INFO", DEBUG_SOCKET="true") as (ports, logs):
        base = f"http://127.0.0.1:{ports[0]}"

        def get(path, **headers):
            try:
                with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as error:
                return error.code

        # a proxy that drops the upgrade, or a confused client: /ws/ over plain HTTP with the token
        assert get(f"/ws/?token={token}") == 404
        assert get(f"/api/v1/auth/me?token={token}", Authorization=f"Bearer {token}") == 200
        assert get("/api/v1/auth/me", Authorization=f"Bearer {token}x") == 401  # a refused token is logged as a 401
        assert get(f"/admin/login/?next=/admin/&access_token={token}") == 200

        async def socket():
            async with ws_connect(f"ws://127.0.0.1:{ports[0]}/ws/?token={token}") as ws:
                await ws.send(json.dumps({"event": "ping", "id": "p"}))
                while json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] != "ack":
                    pass
            async with ws_connect(
                f"ws://127.0.0.1:{ports[0]}/ws/", additional_headers={"Authorization": f"Bearer {token}"}
            ) as ws:
                await ws.send(json.dumps({"event": "ping", "id": "q"}))
                while json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] != "ack":
                    pass

            # the token's name and dots percent-encoded: the server decodes them, and so must the log
            escaped = f"ws://127.0.0.1:{ports[0]}/ws/?%74oken={token.replace('.', '%2E')}"
            async with ws_connect(escaped) as ws:
                await ws.send(json.dumps({"event": "ping", "id": "r"}))
                while json.loads(await asyncio.wait_for(ws.recv(), 5))["event"] != "ack":
                    pass

        assert get(f"/api/v1/auth/me?%74oken={token.replace('.', '%2E')}", Authorization=f"Bearer {token}") == 200
        asyncio.run(socket())
        asyncio.run(asyncio.sleep(0.5))  # the disconnect lines
        logs[0].seek(0)
        written = logs[0].read()
    assert token not in written and signature not in written and token.replace(".", "%2E") not in written
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["name"] == "crm.access"]
    # the lines were written, with the token masked: the test would see a leak
    assert any(line["path"] == "/ws/?token=[redacted]" and line["status"] == 404 for line in access)
    assert sum(line["method"] == "WSCONNECT" and line["path"] == "/ws/?token=[redacted]" for line in access) == 2
    assert sum(line["method"] == "WSDISCONNECT" and line["path"] == "/ws/?token=[redacted]" for line in access) == 2
    assert any(line["path"] == "/api/v1/auth/me?token=[redacted]" and line["status"] == 200 for line in access)
    assert any(line["path"].startswith("/admin/login/?next=/admin/&access_token=[redacted]") for line in access)
    assert any(line.get("request") == "GET /ws/?token=[redacted]" for line in lines)  # Django's "Not Found"
    assert all(line["client"] == "127.0.0.1" for line in access)


@pytest.mark.parametrize("setting, written", [("true", True), ("false", False)])
def test_the_access_log_can_be_turned_off(setting, written):
    probe = "import logging; print(logging.getLogger('crm.access').isEnabledFor(logging.INFO))"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=server_env(ACCESS_LOG=setting, LOG_LEVEL="INFO"),
        timeout=120,
    )
    assert result.stdout.split()[-1] == str(written), result.stderr
