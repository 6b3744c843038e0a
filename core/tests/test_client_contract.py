"""What client code relies on across the API (issue 24): one maximum `limit` on every list, every path
with and without its trailing slash, gzip for JSON but never for tokens, and `Retry-After` equal to
`details.retry_after`."""

import gzip
import json

import pytest
from django.urls import Resolver404, resolve
from rest_framework.exceptions import Throttled

from accounts.tests.factories import PASSWORD
from core import compression
from core.errors import exception_handler
from core.pagination import MAX_LIMIT
from messaging import services
from messaging.tests.factories import make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def list_paths(schema):
    """GET operations that answer a page ({"results", "next"})."""
    for path, item in schema["paths"].items():
        ref = (
            item.get("get", {})
            .get("responses", {})
            .get("200", {})
            .get("content", {})
            .get("application/json", {})
            .get("schema", {})
            .get("$ref", "")
        )
        page = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
        if set(page.get("properties", {})) == {"results", "next"}:
            yield path, item["get"]


# Lists that are one page by construction and take no `limit`: a conversation's people (at most
# MAX_CONVERSATION_PARTICIPANTS, 50).
WHOLE = {"/api/v1/conversations/{conversation_id}/participants"}


def test_every_list_declares_the_one_maximum_limit(schema):
    lists = [(path, operation) for path, operation in list_paths(schema) if path not in WHOLE]
    assert len(lists) >= 15
    for path, operation in lists:
        limit = [p for p in operation.get("parameters", []) if p["name"] == "limit" and p["in"] == "query"]
        assert limit, path
        assert limit[0]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, path


def test_every_list_refuses_a_limit_over_the_maximum(schema, client_for, super_admin):
    client = client_for(super_admin)
    tried = []
    for path, _ in list_paths(schema):
        if "{" in path or path in WHOLE:
            continue
        extra = "&q=hello" if path.endswith("/search") else ""
        if client.get(f"{path}?limit={MAX_LIMIT}{extra}").status_code != 200:
            continue  # not this role's list (or switched off): refused for another reason
        for bad in (MAX_LIMIT + 1, 100000, 0, "ten"):
            response = client.get(f"{path}?limit={bad}{extra}")
            assert response.status_code == 400, (path, bad, response.status_code)
            error = response.json()["error"]
            assert error["code"] == "validation_error" and "limit" in error["details"], (path, bad, error)
        tried.append(path)
    assert {"/api/v1/conversations", "/api/v1/notifications", "/api/v1/leads", "/api/v1/users"} <= set(tried)
    assert len(tried) >= 8


def test_the_history_page_takes_the_same_maximum(client_for, consultant, other_consultant):
    chat = make_conversation(consultant, other_consultant)
    client = client_for(consultant)
    assert client.get(f"/api/v1/conversations/{chat.id}/messages?limit={MAX_LIMIT}").status_code == 200
    refused = client.get(f"/api/v1/conversations/{chat.id}/messages?limit={MAX_LIMIT + 1}")
    assert refused.status_code == 400 and "limit" in refused.json()["error"]["details"]


def test_every_path_answers_with_and_without_its_trailing_slash(schema, client):
    paths = [*schema["paths"], "/api/schema", "/api-docs", "/api-redoc", "/api/ws-schema", "/health", "/metrics"]
    missing = []
    for path in paths:
        concrete = path.replace("{provider}", "google").replace("{", "").replace("}", "")
        concrete = "/".join("1" if part.endswith("id") else part for part in concrete.split("/"))
        for variant in (concrete.rstrip("/"), concrete.rstrip("/") + "/"):
            try:
                resolve(variant)
            except Resolver404:
                missing.append(variant)
    assert missing == []
    for path in ("/api/schema/", "/api-docs/", "/api-redoc/", "/api/ws-schema/", "/health/"):
        assert client.get(path).status_code == 200, path


def test_json_over_a_kilobyte_is_gzipped_when_asked(client_for, consultant, other_consultant):
    chat = make_conversation(consultant, other_consultant)
    for n in range(50):
        services.message_send(sender=consultant, conversation=chat, content=f"Message number {n} of the page")
    client = client_for(consultant)
    path = f"/api/v1/conversations/{chat.id}/messages?limit=50"
    plain = client.get(path)
    assert "Content-Encoding" not in plain  # not asked
    packed = client.get(path, HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert json.loads(gzip.decompress(packed.content)) == plain.json()
    assert len(packed.content) < len(plain.content) / 4


def test_responses_with_tokens_are_never_compressed(api_client, client_for, consultant, monkeypatch):
    monkeypatch.setattr(compression, "MIN_BYTES", 10)  # everything is large enough
    login = api_client.post(
        "/api/v1/auth/login",
        {"email": consultant.email, "password": PASSWORD},
        format="json",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert login.status_code == 200 and "access" in login.json()
    assert "Content-Encoding" not in login
    refreshed = api_client.post(
        "/api/v1/auth/refresh", {"refresh": login.json()["refresh"]}, format="json", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert refreshed.status_code == 200 and "Content-Encoding" not in refreshed
    consultant.first_name, consultant.last_name = "F" * 150, "L" * 150  # as long an answer as the login's
    consultant.save()
    me = client_for(consultant).get("/api/v1/auth/me", HTTP_ACCEPT_ENCODING="gzip")
    assert me["Content-Encoding"] == "gzip"  # an answer without a token is compressed


@pytest.mark.parametrize("wait, seconds", [(2.3, 3), (0.2, 1), (59.0, 59)])
def test_retry_after_and_details_agree(wait, seconds):
    response = exception_handler(Throttled(wait=wait), {})
    assert response is not None and response.status_code == 429
    assert response["Retry-After"] == str(seconds)
    assert response.data["error"]["details"]["retry_after"] == seconds
