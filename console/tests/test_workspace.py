"""The student workspace (console/workspace.py): one page per lead or student, per role and office (hidden
is 404), what it opens on, its actions returning to it, the list links that open it, a fixed query count."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD, ConsultantFactory, StudentFactory
from applications.models import Application
from applications.tests.factories import approved_document
from appointments.models import Appointment
from catalogue.tests.factories import CourseFactory
from documents.models import DocumentStatus
from followups.models import Task, TaskStatus
from leads.models import Activity, ActivityKind
from leads.tests.factories import LeadFactory
from messaging.services import conversation_ensure_direct
from proposals.models import Proposal, ProposalItem
from proposals.states import ProposalStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(office, consultant):
    """A student with their lead (the consultant's), an appointment, a conversation, a document to review
    and an application."""
    student = StudentFactory(office=office, first_name="Sam", last_name="Okafor")
    lead = LeadFactory(office=office, student=student, assigned_to=consultant, email=student.email)
    Appointment.objects.create(
        office=office,
        consultant=consultant,
        lead=lead,
        title="Visa checklist",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=1, minutes=30),
    )
    conversation_ensure_direct(user_a=consultant, user_b=student, office=office, lead=lead)
    approved_document(student, "passport", reviewer=None, status=DocumentStatus.PENDING)
    course = CourseFactory(university__country="GB", name="MSc Data Science")
    Application.objects.create(
        student=student, course=course, intake=date(2030, 9, 1), consultant=consultant, office=office, destination="GB"
    )
    Activity.objects.create(lead=lead, kind=ActivityKind.NOTE, text="Called about the IELTS date")
    Task.objects.create(
        title="Chase the transcript",
        due_at=timezone.now() + timedelta(hours=3),
        assignee=consultant,
        lead=lead,
        office=office,
    )
    propose(student, consultant, course)
    return lead


def propose(student, consultant, course, *, intake=date(2030, 9, 1)):
    proposal = Proposal.objects.create(
        student=student,
        consultant=consultant,
        office_id=student.office_id,
        status=ProposalStatus.SENT,
        sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=14),
    )
    ProposalItem.objects.create(proposal=proposal, course=course, intake=intake, tuition=15000, currency="GBP")
    return proposal


def page(client, user, url):
    assert client.login(email=user.email, password=PASSWORD)
    return client.get(url)


@pytest.mark.parametrize(
    "role, status",
    [("consultant", 200), ("manager", 200), ("super_admin", 200), ("receptionist", 200), ("student", 302)],
)
def test_the_lead_workspace_per_role(role, status, actors, client, person):
    response = page(client, actors[role], f"/admin/console/lead/{person.pk}/")
    assert response.status_code == status
    if status != 200:
        return
    body = response.content.decode()
    for shown in ("Sam Okafor", "Visa checklist", "Called about the IELTS date", 'id="workspace-book"', "Timeline"):
        assert shown in body
    assert f'href="/admin/leads/lead/{person.pk}/change/"' in body  # the stock form, one click away
    if role == "receptionist":  # no applications for the front desk (their selector), no review
        assert "MSc Data Science" not in body and 'class="workspace-review"' not in body
    else:
        assert "MSc Data Science" in body and 'class="workspace-review"' in body
    assert ('id="workspace-chat"' in body) is (role == "consultant")  # the consultant is in the conversation


def test_the_student_workspace(client, person, consultant):
    body = page(client, consultant, f"/admin/console/student/{person.student_id}/").content.decode()
    assert "Sam Okafor" in body and "MSc Data Science" in body and "Called about the IELTS date" in body
    assert 'id="workspace-note"' in body  # notes go on the student's lead


@pytest.mark.parametrize("kind", ["lead", "student"])
def test_other_offices_and_other_consultants_get_404(kind, client, person, other_manager, other_consultant, office):
    pk = person.pk if kind == "lead" else person.student_id
    assert page(client, other_manager, f"/admin/console/{kind}/{pk}/").status_code == 404
    assert page(client, other_consultant, f"/admin/console/{kind}/{pk}/").status_code == 404
    colleague = ConsultantFactory(office=office)  # the same office, not their lead
    assert page(client, colleague, f"/admin/console/lead/{person.pk}/").status_code == 404


@pytest.mark.parametrize("path", ["/admin/console/lead/999999/", "/admin/console/student/999999/"])
def test_unknown_is_404(path, client, manager):
    assert page(client, manager, path).status_code == 404


def test_a_note_and_a_review_come_back_to_the_workspace(client, person, consultant):
    url = f"/admin/console/lead/{person.pk}/"
    assert client.login(email=consultant.email, password=PASSWORD)
    note = {"act": "note", "text": "Sent the shortlist", "next": url}
    response = client.post(f"/admin/leads/lead/{person.pk}/act/", note)
    assert response.status_code == 302 and response["Location"] == url
    document = person.student.documents.get()
    response = client.post(
        "/admin/documents/document/review/", {"document_id": document.pk, "decision": "approved", "next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    body = client.get(url).content.decode()
    assert "Sent the shortlist" in body and 'class="workspace-review"' not in body
    document.refresh_from_db()
    assert document.status == DocumentStatus.APPROVED
    hostile = client.post(
        "/admin/documents/document/review/",
        {"document_id": document.pk, "decision": "approved", "next": "https://evil.example/"},
    )
    assert hostile["Location"].startswith("/admin/")


def test_the_lists_open_the_workspace(client, person, manager):
    body = page(client, manager, "/admin/leads/lead/").content.decode()
    assert f'href="/admin/console/lead/{person.pk}/"' in body
    body = client.get("/admin/accounts/user/?role__exact=student").content.decode()
    assert f'href="/admin/console/student/{person.student_id}/?' in body
    body = client.get("/admin/accounts/user/").content.decode()
    assert f'href="/admin/accounts/user/{manager.pk}/change/"' in body  # staff keep their form


# session, user, the page's subject, the contact panel, appointments, documents, applications with their history
# and checklists, the timeline, the conversation and its people, the profile (the manager: the transfer list)
@pytest.mark.parametrize("role, queries", [("consultant", 22), ("manager", 23)])
def test_the_workspace_runs_a_fixed_number_of_queries(
    role, queries, actors, client, person, office, consultant, django_assert_num_queries
):
    viewer = actors[role]
    assert client.login(email=viewer.email, password=PASSWORD)
    url = f"/admin/console/student/{person.student_id}/"

    def count():
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200

    count()
    student = person.student
    for n in range(4):  # more of everything the page lists
        approved_document(student, "transcript", reviewer=None, status=DocumentStatus.PENDING)
        Application.objects.create(
            student=student,
            course=CourseFactory(university__country="CA"),
            intake=date(2031, 1 + n, 1),
            consultant=consultant,
            office=office,
            destination="CA",
        )
        Activity.objects.create(lead=person, kind=ActivityKind.NOTE, text=f"note {n}")
        Task.objects.create(
            title=f"task {n}", due_at=timezone.now(), assignee=consultant, student=student, office=office
        )
        propose(student, consultant, CourseFactory(university__country="CA"), intake=date(2031, 1 + n, 1))
        Appointment.objects.create(
            office=office,
            consultant=consultant,
            lead=person,
            title=f"Call {n}",
            start=timezone.now() + timedelta(days=2 + n),
            end=timezone.now() + timedelta(days=2 + n, minutes=30),
        )
    count()


def test_tasks_are_added_and_done_from_the_workspace(client, person, consultant):
    url = f"/admin/console/lead/{person.pk}/"
    body = page(client, consultant, url).content.decode()
    assert "Chase the transcript" in body and "MSc Data Science" in body  # the task and the proposal
    response = client.post(
        url, {"act": "task", "title": "Book the IELTS", "due_at": "2030-01-02T10:00", "priority": "high"}
    )
    assert response.status_code == 302 and response["Location"] == url
    task = Task.objects.get(title="Book the IELTS")
    assert task.student_id == person.student_id and task.assignee == consultant
    assert task.due_at.tzinfo is not None
    client.post(url, {"act": "task_done", "task": task.pk})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert f'id="ws-task-{task.pk}"' not in client.get(url).content.decode()
    for bad in (
        {"act": "task", "title": "x", "due_at": "not a time"},
        {"act": "nope"},
        {"act": "task_done", "task": "x"},
    ):
        assert client.post(url, bad).status_code in (302, 404)


def test_a_proposal_is_sent_from_the_workspace(client, person, consultant):
    url = f"/admin/console/student/{person.student_id}/"
    assert page(client, consultant, url + "?propose=1").status_code == 200
    course = CourseFactory(university__country="GB", intakes=[9])
    response = client.post(
        url,
        {"act": "proposal", "course": [f"{course.pk}:2030-09"], "expires_on": "2030-01-01", "message": "Two good fits"},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.filter(items__course=course).get()
    assert proposal.status == ProposalStatus.SENT and proposal.message == "Two good fits"
    bad = client.post(url, {"act": "proposal", "course": ["x:y"], "expires_on": "2030-01-01"})
    assert bad.status_code == 302 and Proposal.objects.count() == 2


def test_another_office_cannot_act_in_the_workspace(client, person, other_manager):
    assert client.login(email=other_manager.email, password=PASSWORD)
    response = client.post(
        f"/admin/console/lead/{person.pk}/", {"act": "task", "title": "x", "due_at": "2030-01-01T10:00"}
    )
    assert response.status_code == 404 and not Task.objects.filter(title="x").exists()
