import pytest


@pytest.mark.django_db
def test_health_reports_database_and_redis(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_health_is_503_when_redis_is_down(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "database": "ok", "redis": "down"}


@pytest.mark.django_db
def test_api_docs_and_schema_are_served(client):
    docs = client.get("/api-docs")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs.content
    assert b"https://" not in docs.content  # served by the project: works offline, nothing from a CDN
    schema = client.get("/api/schema")
    assert schema.status_code == 200
    assert b"/api/v1/auth/login" in schema.content
