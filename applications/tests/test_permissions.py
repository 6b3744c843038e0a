"""Every application endpoint, for every role, against an application of their office handled by the
office's consultant ("mine"), one of their office handled by another consultant, and another office's.
Hidden answers 404; visible but not allowed answers 403."""

import pytest

from accounts.tests.factories import ConsultantFactory, StudentFactory
from applications.models import Application
from applications.services import application_open
from catalogue.tests.factories import CourseFactory
from leads.tests.factories import LeadFactory
from study.vocabulary import parse_intake

pytestmark = pytest.mark.django_db

H, F = 404, 403

# endpoint -> role -> (mine, colleague's, other office's)
TABLE = {
    "retrieve": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (H, H, H),
        "student": (200, H, H),  # the student is the first application's
    },
    "checklist": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (H, H, H),
        "student": (200, H, H),
    },
    "transition": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (H, H, H),
        "student": (F, H, H),
    },
    "change": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (H, H, H),
        "student": (F, H, H),
    },
}


@pytest.fixture
def targets(office, other_office, consultant, other_consultant, student, manager):
    course = CourseFactory(intakes=[1, 9])
    colleague = ConsultantFactory(office=office)

    def make(who, handler, actor):
        return application_open(
            actor=actor, student=who, course=course, intake=parse_intake("2099-09"), consultant=handler
        )

    return [
        make(student, consultant, manager),
        make(StudentFactory(office=office), colleague, manager),
        make(StudentFactory(office=other_office), other_consultant, other_consultant),
    ]


def call(client, endpoint, application):
    url = f"/api/v1/applications/{application.pk}"
    return {
        "retrieve": lambda: client.get(url),
        "checklist": lambda: client.get(f"{url}/checklist"),
        "transition": lambda: client.post(f"{url}/transition", {"to": "withdrawn", "note": "Test"}, format="json"),
        "change": lambda: client.patch(url, {}, format="json"),
    }[endpoint]()


@pytest.mark.parametrize("endpoint", list(TABLE))
@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist", "student"])
def test_who_may_do_what(client_for, actors, targets, endpoint, role):
    client = client_for(actors[role])
    got = tuple(call(client, endpoint, application).status_code for application in targets)
    assert got == TABLE[endpoint][role]
    for response_status, application in zip(got, targets, strict=True):
        if endpoint == "transition":
            application.refresh_from_db()
            assert (application.status == "withdrawn") == (response_status == 200)


@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist", "student"])
def test_lists_hold_what_each_role_may_see(client_for, actors, targets, role, django_assert_max_num_queries):
    expected = {
        "super_admin": [0, 1, 2],
        "manager": [0, 1],
        "consultant": [0],
        "receptionist": [],
        "student": [0],
    }[role]
    client = client_for(actors[role])
    with django_assert_max_num_queries(3):  # the user; the page with its joins; its histories
        body = client.get("/api/v1/applications").json()
    assert sorted(a["id"] for a in body["results"]) == sorted(targets[n].pk for n in expected)


def test_the_list_runs_a_fixed_number_of_queries(client_for, manager, targets, django_assert_num_queries):
    for target in targets[:2]:
        application_open(
            actor=manager,
            student=target.student,
            course=CourseFactory(),
            intake=parse_intake("2099-01"),
            consultant=target.consultant,
        )
    client = client_for(manager)
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/applications?limit=10").json()["results"]) == 4


@pytest.mark.parametrize("role,status", [("receptionist", F), ("student", F), ("consultant", 201), ("manager", 201)])
def test_who_opens_applications(client_for, actors, consultant, role, status, student):
    LeadFactory(office=student.office, student=student, assigned_to=consultant)
    course = CourseFactory()
    response = client_for(actors[role]).post(
        "/api/v1/applications", {"student_id": student.pk, "course_id": course.pk, "intake": "2099-09"}, format="json"
    )
    assert response.status_code == status, response.json()


def test_naming_a_hidden_student_or_course_is_unknown(client_for, other_consultant, student, manager):
    course = CourseFactory(is_active=False)
    response = client_for(other_consultant).post(
        "/api/v1/applications", {"student_id": student.pk, "course_id": course.pk, "intake": "2099-09"}, format="json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_student"
    response = client_for(manager).post(
        "/api/v1/applications", {"student_id": student.pk, "course_id": 10**9, "intake": "2099-09"}, format="json"
    )
    assert response.json()["error"]["code"] == "unknown_course"
    assert not Application.objects.exists()
