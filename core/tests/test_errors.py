"""Every error, wherever it comes from, is `{"error": {code, message, details}}` with the right status."""

import json

import pytest
from django.test import Client
from django.urls import path

from crm_project.urls import handler404, handler500  # noqa: F401 (read from this urlconf by Django)
from crm_project.urls import urlpatterns as project_urls


def broken_view(request):
    raise RuntimeError("a bug, with a secret inside")


urlpatterns = [path("broken", broken_view), *project_urls]


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


@pytest.mark.django_db
def test_method_not_allowed_is_a_405_in_the_one_shape(client_for, consultant):
    response = client_for(consultant).delete("/api/v1/auth/me")
    assert_error(response, 405, "method_not_allowed")


def test_unknown_non_api_path_is_a_json_404(client):
    assert_error(client.get("/no/such/page"), 404, "not_found")


def test_a_crash_is_a_500_in_the_one_shape_without_internals(settings):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/broken")
    assert_error(response, 500, "server_error")
    assert b"secret" not in response.content and b"Traceback" not in response.content


@pytest.mark.django_db
def test_json_that_is_not_an_object_is_a_400(api_client):
    response = api_client.post("/api/v1/auth/login", data=json.dumps([1, 2]), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "details"}


@pytest.mark.django_db
def test_oversized_json_body_is_a_413_before_it_is_parsed(api_client, settings):
    body = json.dumps({"email": "a@example.com", "password": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_error(response, 413, "too_large")
    assert response.json()["error"]["details"] == {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}


@pytest.mark.django_db
def test_json_just_under_the_cap_is_parsed(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    body = json.dumps({"email": "a@example.com", "password": "x" * 100})
    response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
    assert_error(response, 401, response.json()["error"]["code"])  # parsed, then wrong credentials
