"""What joining sets off, through every door: a student's signup makes a website lead; a consultant or
receptionist joining an office gets a conversation with each of its managers (AUTO_CREATE_CONVERSATIONS).
The first social sign-in's lead: accounts/tests/test_social_login.py; the seed's staff: demo/tests/test_seed.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role, User
from accounts.signals import student_signed_up
from accounts.tests.factories import ManagerFactory, StudentFactory
from documents.models import Document
from documents.services import document_upload
from leads.models import Lead, LeadSource
from leads.services import lead_convert
from leads.tests.factories import LeadFactory
from messaging.models import Conversation

pytestmark = pytest.mark.django_db
SIGNUP = {"password": "Str0ng-pass-phrase", "first_name": "Web", "last_name": "Site"}
HIRE = {"password": "Str0ng-pass-phrase", "first_name": "New", "last_name": "Hire"}


def talks(a, b) -> bool:
    return Conversation.objects.filter(direct_key=Conversation.direct_key_for(a.pk, b.pk)).exists()


@pytest.fixture
def auto(settings):
    settings.AUTO_CREATE_CONVERSATIONS = True


def test_signup_creates_a_website_lead_or_links_known_ones(api_client, office):
    assert api_client.post("/api/v1/auth/signup", {**SIGNUP, "email": "new@example.com"}).status_code == 201
    lead = Lead.objects.get(email="new@example.com")
    assert lead.source == LeadSource.WEBSITE and lead.office_id is None and lead.student.email == "new@example.com"
    known = LeadFactory(office=office, email="walkin@example.com")
    api_client.post("/api/v1/auth/signup", {**SIGNUP, "email": "walkin@example.com"})
    known.refresh_from_db()
    assert known.student.email == "walkin@example.com"
    assert Lead.objects.filter(email="walkin@example.com").count() == 1


def test_a_signup_whose_lead_fails_is_not_half_written(api_client):
    """The receivers run inside the signup's transaction: no account without its lead."""

    def fail(**kwargs):
        raise RuntimeError("the lead could not be written")

    student_signed_up.connect(fail, dispatch_uid="test.fail")
    try:
        with pytest.raises(RuntimeError):
            api_client.post("/api/v1/auth/signup", {**SIGNUP, "email": "half@example.com"})
    finally:
        student_signed_up.disconnect(dispatch_uid="test.fail")
    assert not User.objects.filter(email="half@example.com").exists()
    assert not Lead.objects.filter(email="half@example.com").exists()


def test_users_api_new_staff_meet_every_manager_of_their_office(auto, client_for, manager, office):
    second = ManagerFactory(office=office)
    for role in (Role.RECEPTIONIST, Role.CONSULTANT):
        hire = {**HIRE, "email": f"{role}.hire@example.com", "role": role}
        response = client_for(manager).post("/api/v1/users", hire)
        assert response.status_code == 201
        hire = User.objects.get(pk=response.json()["id"])
        assert talks(manager, hire) and talks(second, hire)


def test_users_api_moving_a_consultant_opens_the_conversation_with_the_new_manager(
    auto, client_for, super_admin, consultant, other_office, other_manager
):
    response = client_for(super_admin).patch(f"/api/v1/users/{consultant.pk}", {"office_id": other_office.pk})
    assert response.status_code == 200
    assert talks(other_manager, consultant)


def test_console_user_creation_meets_the_manager(auto, client, manager, office):
    client.force_login(manager)
    form = {
        "email": "console.hire@example.com",
        "first_name": "Con",
        "last_name": "Sole",
        "phone": "",
        "role": Role.CONSULTANT,
        "office": office.pk,
        "password": HIRE["password"],
    }
    assert client.post("/admin/accounts/user/add/", form).status_code == 302
    assert talks(manager, User.objects.get(email="console.hire@example.com"))


def test_console_moving_a_receptionist_meets_the_new_manager(
    auto, client, super_admin, receptionist, other_office, other_manager
):
    client.force_login(super_admin)
    form = {
        "email": receptionist.email,
        "first_name": "Moved",
        "last_name": "Desk",
        "phone": "",
        "role": Role.RECEPTIONIST,
        "office": other_office.pk,
    }
    assert client.post(f"/admin/accounts/user/{receptionist.pk}/change/", form).status_code == 302
    assert talks(other_manager, receptionist)


def test_nothing_is_opened_when_the_setting_is_off(
    settings, client_for, manager, super_admin, consultant, other_office, other_manager
):
    settings.AUTO_CREATE_CONVERSATIONS = False
    hire = {**HIRE, "email": "quiet@example.com", "role": Role.CONSULTANT}
    response = client_for(manager).post("/api/v1/users", hire)
    assert response.status_code == 201
    client_for(super_admin).patch(f"/api/v1/users/{consultant.pk}", {"office_id": other_office.pk})
    assert not Conversation.objects.exists()


def test_managers_and_students_joining_get_no_conversation(auto, client_for, super_admin, manager, office):
    for role in (Role.MANAGER, Role.STUDENT):
        response = client_for(super_admin).post(
            "/api/v1/users", {**HIRE, "email": f"{role}.new@example.com", "role": role, "office_id": office.pk}
        )
        assert response.status_code == 201
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_documents_uploaded_before_conversion_join_the_office(office, manager, consultant):
    student = StudentFactory(office=None)
    document_upload(
        actor=student,
        file=SimpleUploadedFile("p.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"),
        kind="passport",
        student=student,
    )
    lead = LeadFactory(office=office, student=student, assigned_to=consultant)
    lead_convert(actor=manager, lead=lead)
    assert Document.objects.get(student=student).office_id == office.pk
