import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import StudentFactory
from documents.models import Document
from documents.services import document_upload
from leads.models import Activity
from leads.tests.factories import LeadFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
ROLES = ["super_admin", "manager", "consultant", "receptionist", "student"]


def pdf(name="passport.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def owned(office, consultant, student):
    LeadFactory(office=office, student=student, assigned_to=consultant)
    return student


@pytest.fixture
def doc(client_for, owned):
    response = client_for(owned).post("/api/v1/documents", {"file": pdf(), "kind": "passport"}, format="multipart")
    assert response.status_code == 201, response.content
    return Document.objects.get(pk=response.json()["id"])


@pytest.fixture
def foreign_doc(other_office, other_consultant):
    other_student = StudentFactory(office=other_office)
    LeadFactory(office=other_office, student=other_student, assigned_to=other_consultant)
    return document_upload(actor=other_student, file=pdf(), kind="transcript", student=other_student)


READ = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (404, 404),
    "student": (200, 404),
}
REVIEW = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (404, 404),
    "student": (403, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_document_permissions(role, actors, client_for, doc, foreign_doc):
    client = client_for(actors[role])
    for document, read, review in zip((doc, foreign_doc), READ[role], REVIEW[role], strict=True):
        assert client.get(f"/api/v1/documents/{document.id}").status_code == read
        assert client.get(f"/api/v1/documents/{document.id}/download").status_code == read
        assert client.post(f"/api/v1/documents/{document.id}/review", {"status": "approved"}).status_code == review
    listed = {d["id"] for d in client.get("/api/v1/documents").json()["results"]}
    assert listed == {d.id for d, read in zip((doc, foreign_doc), READ[role], strict=True) if read == 200}


def test_representation_and_download(client_for, consultant, doc):
    body = client_for(consultant).get(f"/api/v1/documents/{doc.id}").json()
    assert {"id", "kind", "owner_id", "status", "file_name", "mime_type", "size", "url"} <= set(body)
    assert body["mime_type"] == "application/pdf" and body["status"] == "pending"
    download = client_for(consultant).get(body["url"])
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff" and download["Content-Disposition"].startswith("attachment")


def test_a_document_whose_file_is_gone_answers_file_missing_and_is_logged(client_for, consultant, doc, caplog):
    default_storage.delete(doc.file_key)  # a lost volume, a restore without the media folder
    response = client_for(consultant).get(f"/api/v1/documents/{doc.id}/download")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "file_missing"
    assert [r.key for r in caplog.records if r.message == "stored file missing"] == [doc.file_key]


def test_review_notifies_the_owner_and_lands_on_the_timeline(client_for, consultant, doc, owned):
    rejected = client_for(consultant).post(f"/api/v1/documents/{doc.id}/review", {"status": "rejected"})
    assert rejected.json()["error"]["code"] == "note_required"
    client_for(consultant).post(f"/api/v1/documents/{doc.id}/review", {"status": "rejected", "note": "Blurry scan"})
    assert Notification.objects.get(recipient=owned, kind="document_reviewed").body == "Blurry scan"
    assert Activity.objects.filter(kind="document", text__contains="rejected").exists()


@pytest.mark.parametrize(
    "name, data, status, code",
    [
        ("cv.pdf", b"\x7fELF" + b"\x00" * 50, 415, "executable_refused"),
        ("page.pdf", b"<html><script>x</script>", 415, "markup_refused"),
        ("../../etc/passwd.pdf", PDF, 201, None),
    ],
)
def test_uploads_reuse_the_file_checks(client_for, owned, name, data, status, code):
    response = client_for(owned).post(
        "/api/v1/documents", {"file": SimpleUploadedFile(name, data), "kind": "passport"}, format="multipart"
    )
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code
    else:
        assert response.json()["file_name"] == "passwd.pdf"


def test_bad_upload_requests(client_for, owned, consultant, other_office):
    client = client_for(owned)
    assert (
        client.post("/api/v1/documents", {"kind": "passport"}, format="multipart").json()["error"]["code"] == "no_file"
    )
    assert (
        client.post("/api/v1/documents", {"file": pdf(), "kind": "selfie"}, format="multipart").json()["error"]["code"]
        == "invalid_kind"
    )
    stranger = StudentFactory(office=other_office)
    response = client_for(consultant).post(
        "/api/v1/documents", {"file": pdf(), "kind": "passport", "student_id": stranger.id}, format="multipart"
    )
    assert response.json()["error"]["code"] == "unknown_student"
    assert Document.objects.count() == 0


def test_consultant_uploads_for_their_lead(client_for, consultant, office):
    lead = LeadFactory(office=office, assigned_to=consultant)
    response = client_for(consultant).post(
        "/api/v1/documents", {"file": pdf(), "kind": "transcript", "lead_id": lead.id}, format="multipart"
    )
    assert response.status_code == 201 and response.json()["lead_id"] == lead.id


def test_delete_keeps_an_audit_record(client_for, manager, doc, django_capture_on_commit_callbacks):
    key = doc.file_key
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(manager).delete(f"/api/v1/documents/{doc.id}").status_code == 204
    doc.refresh_from_db()
    assert doc.deleted_by == manager and doc.deleted_at is not None
    assert not default_storage.exists(key)
    assert client_for(manager).get(f"/api/v1/documents/{doc.id}").status_code == 404


@pytest.mark.parametrize("rows", [3, 12])
def test_document_list_query_count_is_fixed(rows, client_for, owned, django_assert_num_queries):
    for _ in range(rows):
        document_upload(actor=owned, file=pdf(), kind="other", student=owned)
    client = client_for(owned)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/documents?limit=100").json()["results"]) == rows
