"""HTTP details only a real daphne process shows."""

import pytest
import requests

from accounts.tests.factories import ConsultantFactory
from conftest import access_token_for
from core.tests.live_server import daphne_servers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_multipart_body_without_parts_gets_the_error_shape(tmp_path):
    """Twisted used to answer a multipart body it could not parse itself: an empty 400, not JSON."""
    token = access_token_for(ConsultantFactory())
    with daphne_servers(tmp_path) as (ports, _):
        response = requests.post(
            f"http://127.0.0.1:{ports[0]}/api/v1/messages/upload",
            data=b"--c637--\r\n",
            headers={"Content-Type": "multipart/form-data; boundary=c637", "Authorization": f"Bearer {token}"},
            timeout=10,
        )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "validation_error"
