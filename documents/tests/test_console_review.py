"""The console's document review queue: pending documents in scope, an inline preview of images and
PDFs, download, and approve / reject with a note through `documents.services.document_review`."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.tests.factories import PASSWORD, StudentFactory
from documents.models import Document
from documents.services import document_upload
from leads.tests.factories import LeadFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db
QUEUE = "/admin/documents/document/review/"


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def upload(student, kind="passport", name="passport.png", data=None):
    return document_upload(actor=student, file=SimpleUploadedFile(name, data or png()), kind=kind, student=student)


def test_the_queue_is_pending_documents_in_scope_oldest_first(client, manager, office, other_office):
    first = upload(StudentFactory(office=office, first_name="Ada", last_name="First"))
    second = upload(StudentFactory(office=office), kind="transcript", name="t.txt", data=b"grades")
    done = upload(StudentFactory(office=office))
    Document.objects.filter(pk=done.pk).update(status="approved")
    upload(StudentFactory(office=other_office))
    page = login(client, manager).get(QUEUE)
    assert [d.pk for d in page.context["documents"]] == [first.pk, second.pk] and page.context["total"] == 2
    body = page.content.decode()
    assert f'src="/admin/documents/document/{first.pk}/file/?inline=1"' in body  # the image is previewed
    assert "No preview for this type" in body and "Ada First" in body
    assert [d.pk for d in client.get(QUEUE, {"kind": "transcript"}).context["documents"]] == [second.pk]


def test_approve_and_reject_with_a_note(client, manager, office):
    student = StudentFactory(office=office)
    passport, visa = upload(student), upload(student, kind="visa")
    login(client, manager)
    approved = client.post(f"{QUEUE}?kind=passport", {"document_id": passport.pk, "decision": "approved"})
    assert approved.status_code == 302 and approved["Location"] == f"{QUEUE}?kind=passport"
    passport.refresh_from_db()
    assert passport.status == "approved" and passport.reviewed_by == manager
    refused = client.post(QUEUE, {"document_id": visa.pk, "decision": "rejected", "note": ""})
    visa.refresh_from_db()
    assert visa.status == "pending"
    assert "Say why the document is rejected." in [str(m) for m in refused.wsgi_request._messages][-1]
    client.post(QUEUE, {"document_id": visa.pk, "decision": "rejected", "note": "The scan is blurred"})
    visa.refresh_from_db()
    assert visa.status == "rejected" and visa.review_note == "The scan is blurred"
    assert Notification.objects.filter(recipient=student, kind="document_reviewed").count() == 2


def test_a_consultant_reviews_their_students_documents_only(client, consultant, office):
    mine = StudentFactory(office=office)
    LeadFactory(office=office, assigned_to=consultant, student=mine)
    theirs = upload(StudentFactory(office=office))
    document = upload(mine)
    login(client, consultant)
    assert [d.pk for d in client.get(QUEUE).context["documents"]] == [document.pk]
    assert client.post(QUEUE, {"document_id": theirs.pk, "decision": "approved"}).status_code == 404
    assert client.get(f"/admin/documents/document/{theirs.pk}/file/").status_code == 404


def test_other_offices_documents_are_404(client, manager, receptionist, other_office):
    theirs = upload(StudentFactory(office=other_office))
    login(client, manager)
    assert client.get(f"{QUEUE}?office={other_office.pk}").status_code == 404
    assert client.post(QUEUE, {"document_id": theirs.pk, "decision": "approved"}).status_code == 404
    assert client.get(f"/admin/documents/document/{theirs.pk}/file/?inline=1").status_code == 404
    client.logout()
    login(client, receptionist)  # receptionists see no documents at all
    assert client.get(QUEUE).context["documents"] == []
    theirs.refresh_from_db()
    assert theirs.status == "pending"


def test_files_preview_inline_only_for_images_and_pdfs(client, manager, office):
    student = StudentFactory(office=office)
    image, text = upload(student), upload(student, kind="other", name="notes.txt", data=b"plain notes")
    login(client, manager)
    shown = client.get(f"/admin/documents/document/{image.pk}/file/?inline=1")
    assert shown.status_code == 200 and shown["Content-Disposition"].startswith("inline")
    assert shown["X-Content-Type-Options"] == "nosniff" and shown["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(shown.streaming_content) == image_bytes(image)
    downloaded = client.get(f"/admin/documents/document/{text.pk}/file/?inline=1")
    assert downloaded["Content-Disposition"].startswith("attachment")
    assert "sandbox" in downloaded["Content-Security-Policy"]


def image_bytes(document):
    with default_storage.open(document.file_key, "rb") as stored:
        return stored.read()


def test_the_queue_runs_a_fixed_number_of_queries(client, manager, office):
    def more():
        for _ in range(3):
            upload(StudentFactory(office=office))
        document = upload(StudentFactory(office=office))
        Document.objects.filter(pk=document.pk).update(lead=LeadFactory(office=office), student=None)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(QUEUE).status_code == 200
        return len(captured)

    login(client, manager)
    more()
    first = count()
    more()
    assert count() == first == 6
