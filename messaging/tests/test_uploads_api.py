import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from core.tests.test_uploads import jpeg_bytes, png_bytes
from messaging.models import Attachment, Message
from messaging.tests.factories import make_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(office, consultant, receptionist):
    return make_conversation(consultant, receptionist, office=office)


def files(*pairs):
    return [SimpleUploadedFile(name, data) for name, data in pairs]


def test_upload_sends_one_message_with_its_files(client_for, consultant, receptionist, chat):
    response = client_for(consultant).post(
        "/api/v1/messages/upload",
        {
            "conversation_id": chat.id,
            "content": "scans",
            "files": files(("family-photo.png", png_bytes()), ("b.jpg", jpeg_bytes())),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "image" and body["content"] == "scans"
    assert [a["file_name"] for a in body["attachments"]] == ["family-photo.png", "b.jpg"]
    stored = Attachment.objects.get(file_name="family-photo.png")
    assert stored.thumbnail_key and default_storage.exists(stored.file_key)
    assert "family-photo" not in stored.file_key  # random keys, never the user's name

    download = client_for(receptionist).get(body["attachments"][0]["url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]
    assert b"".join(download.streaming_content) == png_bytes()


def test_outsiders_cannot_download(client_for, consultant, other_consultant, chat):
    body = (
        client_for(consultant)
        .post(
            "/api/v1/messages/upload",
            {"conversation_id": chat.id, "files": files(("a.png", png_bytes()))},
            format="multipart",
        )
        .json()
    )
    assert client_for(other_consultant).get(body["attachments"][0]["url"]).status_code == 404
    assert client_for(other_consultant).get("/api/v1/attachments/999999/download").status_code == 404


def test_a_bad_file_refuses_the_whole_upload(client_for, consultant, chat):
    before = (
        set(default_storage.listdir(f"conversations/{chat.id}")[1])
        if default_storage.exists(f"conversations/{chat.id}")
        else set()
    )
    response = client_for(consultant).post(
        "/api/v1/messages/upload",
        {"conversation_id": chat.id, "files": files(("ok.png", png_bytes()), ("evil.pdf", b"\x7fELF" + b"\x00" * 64))},
        format="multipart",
    )
    assert response.status_code == 415 and response.json()["error"]["code"] == "executable_refused"
    assert not Message.objects.exists() and not Attachment.objects.exists()
    after = (
        set(default_storage.listdir(f"conversations/{chat.id}")[1])
        if default_storage.exists(f"conversations/{chat.id}")
        else set()
    )
    assert after == before


def test_too_many_files(client_for, consultant, chat, settings):
    settings.MAX_FILES_PER_MESSAGE = 2
    response = client_for(consultant).post(
        "/api/v1/messages/upload",
        {"conversation_id": chat.id, "files": files(*[(f"{i}.png", png_bytes()) for i in range(3)])},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_files"


def test_oversized_file_is_refused_while_streaming(client_for, consultant, chat, settings):
    settings.MAX_FILE_SIZE = 1024
    response = client_for(consultant).post(
        "/api/v1/messages/upload",
        {"conversation_id": chat.id, "files": files(("big.txt", b"a" * 50_000))},
        format="multipart",
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "file_too_large"
    assert not Attachment.objects.exists()


def test_upload_needs_files_and_membership(client_for, consultant, other_consultant, chat):
    assert (
        client_for(consultant)
        .post("/api/v1/messages/upload", {"conversation_id": chat.id}, format="multipart")
        .status_code
        == 400
    )
    outsider = client_for(other_consultant).post(
        "/api/v1/messages/upload",
        {"conversation_id": chat.id, "files": files(("a.png", png_bytes()))},
        format="multipart",
    )
    assert outsider.status_code == 404


def test_deleted_message_files_are_gone(client_for, consultant, receptionist, chat):
    body = (
        client_for(consultant)
        .post(
            "/api/v1/messages/upload",
            {"conversation_id": chat.id, "files": files(("a.png", png_bytes()))},
            format="multipart",
        )
        .json()
    )
    client_for(consultant).delete(f"/api/v1/messages/{body['id']}")
    assert client_for(receptionist).get(body["attachments"][0]["url"]).status_code == 404


def test_an_attachment_whose_file_is_gone_answers_file_missing(client_for, consultant, receptionist, chat, caplog):
    body = (
        client_for(consultant)
        .post(
            "/api/v1/messages/upload",
            {"conversation_id": chat.id, "files": files(("a.png", png_bytes()))},
            format="multipart",
        )
        .json()
    )
    default_storage.delete(Attachment.objects.get(pk=body["attachments"][0]["id"]).file_key)
    response = client_for(receptionist).get(body["attachments"][0]["url"])
    assert response.status_code == 404 and response.json()["error"]["code"] == "file_missing"
    assert any(r.message == "stored file missing" and r.levelname == "ERROR" for r in caplog.records)


def test_unreadable_storage_answers_503(client_for, consultant, receptionist, chat, monkeypatch):
    body = (
        client_for(consultant)
        .post(
            "/api/v1/messages/upload",
            {"conversation_id": chat.id, "files": files(("a.png", png_bytes()))},
            format="multipart",
        )
        .json()
    )

    def broken(name, mode="rb"):
        raise OSError(5, "Input/output error")  # a storage mount gone bad

    monkeypatch.setattr(default_storage, "open", broken)
    response = client_for(receptionist).get(body["attachments"][0]["url"])
    assert response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"
