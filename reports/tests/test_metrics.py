"""`/metrics`: staff or the metrics token; request figures of this process, socket and message figures of all."""

import pytest

pytestmark = pytest.mark.django_db


def test_metrics_need_staff_or_the_token(client, client_for, consultant, student, settings):
    assert client.get("/metrics").status_code == 401
    assert client_for(student).get("/metrics").status_code == 401
    body = client_for(consultant).get("/metrics").content.decode()
    assert "crm_http_requests_total" in body and "crm_socket_sockets" in body and "crm_messages_last_minute" in body
    settings.METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
