"""The OpenAPI schema as the API answers (core/schema.py); Schemathesis checks it against a live
server in CI (clients/conformance.py), these keep its rules in the suite."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(openapi_schema):
    return openapi_schema


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_operation_documents_its_errors_with_the_one_body(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert {"401", "429", "503"} <= set(responses), (method, path)
        assert "Retry-After" in responses["429"]["headers"] and "Retry-After" in responses["503"]["headers"]
        for status, response in responses.items():
            if status.startswith("4") or status == "503":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(responses), (method, path)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(schema["components"]["schemas"]["ErrorDetail"]["required"]) == {"code", "message", "details"}


def test_lists_are_pages_and_paths_are_as_clients_call_them(schema):
    def page_of(path):
        ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]

    for path in (
        "/api/v1/notifications",
        "/api/v1/announcements",
        "/api/v1/conversations",
        "/api/v1/conversations/suggested-contacts",
        "/api/v1/conversations/monitoring/office/{office_id}",
        "/api/v1/conversations/{conversation_id}/participants",
    ):
        assert set(page_of(path)["properties"]) == {"results", "next"}, path
    assert not [path for path in schema["paths"] if path.endswith("/") and path != "/"]
    ids = {
        (p["name"], p["schema"]["type"])
        for _, _, op in operations(schema)
        for p in op.get("parameters", [])
        if p["in"] == "path" and p["name"].endswith("id")
    }
    assert {kind for _, kind in ids} == {"integer"}


def test_times_of_day_and_reports_are_as_sent(schema):
    hours = schema["components"]["schemas"]["OpeningHours"]["properties"]
    assert "format" not in hours["opens_at"] and hours["opens_at"]["pattern"].startswith("^")

    assert re.match(hours["opens_at"]["pattern"], "09:00:00") and not re.match(hours["opens_at"]["pattern"], "9am")
    leads = schema["paths"]["/api/v1/reports/leads"]["get"]["responses"]["200"]["content"]["application/json"]
    ref = leads["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][ref]["properties"]
    assert {"funnel", "conversion_rate", "by_source", "by_consultant"} <= set(fields)
