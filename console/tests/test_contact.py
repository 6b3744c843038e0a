"""The contact panel (console/contact.py): who a conversation is with, as the viewer may see it; the 404
rule for conversations the viewer is neither in nor monitors; a transfer only for who may assign."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import PASSWORD, ConsultantFactory, StudentFactory
from applications.models import Application
from appointments.models import Appointment
from catalogue.tests.factories import CourseFactory
from documents.services import document_upload
from leads.tests.factories import LeadFactory
from messaging.services import conversation_ensure_direct

pytestmark = pytest.mark.django_db


def panel(client, user, chat):
    assert client.login(email=user.email, password=PASSWORD)
    return client.get(f"/admin/console/contact/{chat.pk}/")


@pytest.fixture
def chat(office, consultant):
    student = StudentFactory(office=office, first_name="Sam", last_name="Okafor")
    lead = LeadFactory(office=office, student=student, assigned_to=consultant, phone="+447700900123")
    Appointment.objects.create(
        office=office,
        consultant=consultant,
        lead=lead,
        title="Visa checklist",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, minutes=30),
    )
    return conversation_ensure_direct(user_a=consultant, user_b=student, office=office, lead=lead)


@pytest.mark.parametrize(
    "role, status, transfer",
    [("consultant", 200, False), ("manager", 200, True), ("super_admin", 200, True), ("receptionist", 404, False)],
)
def test_the_panel_per_role(role, status, transfer, actors, client, chat, office):
    ConsultantFactory(office=office, first_name="Cora")
    response = panel(client, actors[role], chat)
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "Sam Okafor" in body and "07700 900123" in body and "Visa checklist" in body
        assert ('id="contact-transfer"' in body) is transfer
        assert "Applications" in body  # the slot the applications module fills


def test_another_offices_manager_gets_404(client, chat, other_manager):
    assert panel(client, other_manager, chat).status_code == 404


def test_the_panel_runs_a_fixed_number_of_queries(client, chat, manager, office):
    student = chat.lead.student
    assert client.login(email=manager.email, password=PASSWORD)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/admin/console/contact/{chat.pk}/").status_code == 200
        return len(captured)

    def upload(n):
        for _ in range(n):
            document_upload(
                actor=student, file=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n"), kind="passport", student=student
            )

    upload(1)
    one = count()
    upload(3)
    assert count() == one


def test_the_panel_lists_the_applications_the_viewer_may_see(client, chat, consultant, manager, office):
    student = chat.lead.student
    course = CourseFactory(university__country="GB", name="MSc Data Science")
    Application.objects.create(
        student=student, course=course, intake="2030-09-01", consultant=consultant, office=office, destination="GB"
    )
    body = panel(client, manager, chat).content.decode()
    assert 'id="contact-applications"' in body and "MSc Data Science" in body
