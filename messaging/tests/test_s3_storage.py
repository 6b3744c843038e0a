"""With STORAGE_BACKEND=s3, files go to S3 and downloads are short-lived signed URLs.

moto's server stands in for S3 on a local port: real HTTP, real signatures.
"""

import socket
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from core.tests.test_uploads import png_bytes
from messaging.tests.factories import make_conversation

pytestmark = pytest.mark.django_db

CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket="crm-test-files")
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    settings.STORAGE_BACKEND = "s3"
    settings.AWS_QUERYSTRING_EXPIRE = 120
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "crm-test-files",
                "endpoint_url": s3_endpoint,
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "signature_version": "s3v4",
                **CREDENTIALS,
            },
        },
    }
    return s3_endpoint


def test_attachment_download_is_a_signed_short_lived_url(
    s3_storage, client_for, consultant, receptionist, office, other_consultant
):
    chat = make_conversation(consultant, receptionist, office=office)
    body = (
        client_for(consultant)
        .post(
            "/api/v1/messages/upload",
            {"conversation_id": chat.id, "files": [SimpleUploadedFile("scan.png", png_bytes())]},
            format="multipart",
        )
        .json()
    )
    url = body["attachments"][0]["url"]

    response = client_for(receptionist).get(url)
    assert response.status_code == 302
    signed = urlparse(response["Location"])
    query = parse_qs(signed.query)
    assert signed.netloc == urlparse(s3_storage).netloc
    assert "X-Amz-Signature" in query and query["X-Amz-Expires"] == ["120"]
    assert "attachment" in query["response-content-disposition"][0]

    fetched = requests.get(response["Location"], timeout=10)
    assert fetched.status_code == 200 and fetched.content == png_bytes()
    unsigned = requests.get(f"{signed.scheme}://{signed.netloc}{signed.path}", timeout=10)
    assert unsigned.status_code == 403  # no guessable public path

    assert client_for(other_consultant).get(url).status_code == 404
