"""A hand-made page position is bad input, never a 500: every list of the API that pages (found in the
schema, so a new one is walked too) answers a cursor the server never gave out with 400
`invalid_cursor` in the one error shape, for every role, and the conversation history's `before` /
`after`, search's `offset` and presence's `ids` the same way."""

import base64
from urllib.parse import quote

import pytest

from leads.tests.factories import LeadFactory
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


def cursor(query: str) -> str:
    return quote(base64.b64encode(query.encode()).decode())


# Positions no ordering of any list accepts (ids, times), and malformed cursors.
NEVER_VALID = {
    "word": cursor("p=not-a-position"),
    "beyond bigint": cursor("p=99999999999999999999"),
    "nul byte": cursor("p=\x00"),
    "float overflow": cursor("o=1&r=1&p=1e999"),
    "bad base64 padding": "a",
}
# Lists ordered by text: any text without a NUL is a place among them (a word, digits past bigint, 1e999).
TEXT_POSITIONS = {"word", "beyond bigint", "float overflow"}
TEXT_ORDERED = {"/api/v1/canned-replies": TEXT_POSITIONS, "/api/v1/universities": TEXT_POSITIONS}  # shortcut, name
# Valid for some orderings (times), not for others (ids): never a 500 either way.
SOMETIMES_VALID = {
    "year one": cursor("p=0001-01-01T00:00:00-23:59"),
    "year 9999": cursor("p=9999-12-31T23:59:59-23:59"),
    "date": cursor("r=1&p=2026-01-01"),  # the issue's: a 500 on /users and the seven other lists below
    "no base64 at all": "%%%",  # decodes to nothing: the first page
    "huge offset": cursor("o=99999999999999999999999"),  # DRF caps the offset: an empty page
}


def paged_list_paths(schema: dict) -> list[str]:
    return sorted(
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    )


# The lists the issue found a 500 on (ordered by id: a date is no position of theirs).
ISSUE_LISTS = {
    f"/api/v1{path}"
    for path in (
        "/users",
        "/documents",
        "/notifications",
        "/offices",
        "/offices/{id}/members",
        "/announcements",
        "/conversations/suggested-contacts",
        "/conversations/monitoring/audit",
    )
}


def test_the_walk_covers_the_lists_the_issue_named(openapi_schema):
    assert set(paged_list_paths(openapi_schema)) >= ISSUE_LISTS


@pytest.fixture
def world(actors, office, consultant, student):
    chat = make_conversation(consultant, student, office=office)
    send(student, chat, "hello")
    lead = LeadFactory(office=office, assigned_to=consultant)
    return {"{id}": None, "{office_id}": office.pk, "{conversation_id}": chat.pk, "lead": lead.pk}


def fill(path: str, world: dict) -> str:
    if path.startswith("/api/v1/leads/{id}"):
        path = path.replace("{id}", str(world["lead"]))
    path = path.replace("{id}", str(world["{office_id}"]))  # /offices/{id}/members
    for name in ("{office_id}", "{conversation_id}"):
        path = path.replace(name, str(world[name]))
    assert "{" not in path, path
    return path


def assert_error_shape(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


# The sweep (every list, ten cursors, ~0.6 s a role): the consultant's in the fast tier, every role in `make test`.
ROLES = [
    "consultant",
    *(pytest.param(role, marks=pytest.mark.slow) for role in ("super_admin", "manager", "receptionist", "student")),
]


@pytest.mark.parametrize("role", ROLES)
def test_every_paged_list_refuses_a_cursor_it_never_gave_out(client_for, actors, world, role, openapi_schema):
    api = client_for(actors[role])
    api.raise_request_exception = False  # a 500 is an answer to report, with the list that gave it
    walked, crashed = 0, []
    for path in paged_list_paths(openapi_schema):
        url = fill(path, world)
        plain = api.get(url)
        assert plain.status_code != 500, url
        for name, value in {**NEVER_VALID, **SOMETIMES_VALID}.items():
            answer = api.get(f"{url}?cursor={value}")
            if answer.status_code == 500:
                crashed.append(f"{url} {name}")
                continue
            if answer.status_code >= 400:
                assert_error_shape(answer)
            if name in TEXT_ORDERED.get(path, ()):
                assert answer.status_code == 200, (role, url, name)
            elif plain.status_code == 200 and (name in NEVER_VALID or (name == "date" and path in ISSUE_LISTS)):
                assert answer.status_code == 400, (role, url, name, answer.content)
                assert assert_error_shape(answer)["code"] == "invalid_cursor", (role, url, name)
                walked += 1
    assert crashed == []
    assert walked >= len(NEVER_VALID) * 5  # every role reaches some lists


HOSTILE_NUMBERS = ["-1", "0", "abc", "1e999", "99999999999999999999", "%00", "1.5", ""]


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_history_and_search_positions_are_checked(client_for, consultant, world, value):
    api = client_for(consultant)
    api.raise_request_exception = False
    for url in (
        f"/api/v1/conversations/{world['{conversation_id}']}/messages?before={value}",
        f"/api/v1/conversations/{world['{conversation_id}']}/messages?after={value}",
        f"/api/v1/messages/search?q=hello&offset={value}",
        f"/api/v1/messages/search?q=hello&limit={value}",
        f"/api/v1/courses?offset={value}",
        f"/api/v1/courses?q=law&limit={value}",
        f"/api/v1/users/presence?ids={value}",
    ):
        answer = api.get(url)
        assert answer.status_code in (200, 400), (url, answer.status_code, answer.content)
        if answer.status_code == 400:
            assert_error_shape(answer)
