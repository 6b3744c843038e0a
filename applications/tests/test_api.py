"""Applications over REST: opening, moving through every status, the checklist gate and its override,
concurrent creations and moves, what each move sets off (history, timeline, notifications, the live event)."""

import threading

import pytest
from django.db import connection

from accounts.tests.factories import ManagerFactory, StudentFactory
from applications.models import Application, StatusChange
from applications.tests.factories import approved_document, complete_checklist
from leads.models import Activity
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def open_application(client, student, course, intake="2027-09", **extra):
    return client.post(
        "/api/v1/applications",
        {"student_id": student.pk, "course_id": course.pk, "intake": intake, **extra},
        format="json",
    )


def move(client, application_id, to, **extra):
    return client.post(f"/api/v1/applications/{application_id}/transition", {"to": to, **extra}, format="json")


def test_a_consultant_opens_a_draft_for_their_student(client_for, consultant, applicant, course, manager):
    response = open_application(client_for(consultant), applicant, course)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["intake"] == "2027-09" and body["destination"] == "GB"
    assert body["consultant_id"] == consultant.pk and body["office_id"] == applicant.office_id
    assert body["next_statuses"] == ["submitted", "withdrawn"]
    assert [(h["from"], h["to"], h["by_id"]) for h in body["status_history"]] == [("", "draft", consultant.pk)]
    assert "commission" not in str(body)
    # the student is told; the consultant, who did it, is not
    assert list(Notification.objects.values_list("recipient_id", "kind")) == [(applicant.pk, "application")]
    assert Activity.objects.filter(kind="application", lead__student=applicant).count() == 1


@pytest.mark.parametrize(
    "intake,code",
    [
        ("2027-13", "validation_error"),
        ("27-09", "validation_error"),
        ("september", "validation_error"),
        ("2027-10", "intake_not_offered"),
        ("2027-01", "intake_in_past"),
    ],
)
def test_bad_intakes_are_refused_in_the_one_shape(client_for, consultant, applicant, course, intake, code):
    response = open_application(client_for(consultant), applicant, course, intake=intake)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Application.objects.exists()


def test_a_second_open_application_for_the_same_intake_is_a_409(client_for, consultant, applicant, course):
    first = open_application(client_for(consultant), applicant, course).json()
    again = open_application(client_for(consultant), applicant, course)
    assert again.status_code == 409
    assert again.json()["error"] == {
        "code": "application_exists",
        "message": "The student already has an open application to this course for this intake.",
        "details": {"application_id": first["id"]},
    }
    move(client_for(consultant), first["id"], "withdrawn", note="Chose another university")
    assert open_application(client_for(consultant), applicant, course).status_code == 201  # closed ones do not count


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creations_give_one_201_and_one_409(client_for, consultant, applicant, course):
    statuses, barrier = [], threading.Barrier(2)

    def create():
        barrier.wait()
        try:
            statuses.append(open_application(client_for(consultant), applicant, course).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]
    assert Application.objects.count() == 1 and StatusChange.objects.count() == 1


def test_submitting_waits_for_an_approved_checklist(client_for, consultant, manager, applicant, course):
    application = open_application(client_for(consultant), applicant, course).json()
    refused = move(client_for(consultant), application["id"], "submitted")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "checklist_incomplete" and error["details"]["progress"] == 0
    assert "passport" in error["details"]["missing"] and "references" in error["details"]["missing"]
    # a consultant may not override; a manager may, with a reason that is recorded
    assert (
        move(client_for(consultant), application["id"], "submitted", override_checklist=True, note="x").status_code
        == 403
    )
    assert move(client_for(manager), application["id"], "submitted", override_checklist=True).json()["error"][
        "code"
    ] == ("reason_required")
    done = move(client_for(manager), application["id"], "submitted", override_checklist=True, note="Deadline tomorrow")
    assert done.status_code == 200 and done.json()["status"] == "submitted"
    change = StatusChange.objects.get(to_status="submitted")
    assert change.checklist_override and change.note == "Deadline tomorrow" and "passport" in change.data["missing"]
    assert done.json()["status_history"][-1]["checklist_override"] is True


def test_the_checklist_follows_the_documents_and_their_review(client_for, consultant, manager, applicant, course):
    application = open_application(client_for(consultant), applicant, course).json()
    url = f"/api/v1/applications/{application['id']}/checklist"
    assert client_for(applicant).get(url).json()["progress"] == 0
    documents = complete_checklist(applicant, reviewer=manager)
    approved_document(applicant, "passport", reviewer=manager, status="pending")
    checklist = client_for(applicant).get(url).json()
    assert checklist["progress"] == 100
    states = {item["key"]: (item["state"], item["document_id"]) for item in checklist["items"]}
    assert states["references"][0] == "approved" and states["passport"] == ("approved", documents[0].pk)
    documents[4].status = "rejected"  # one reference of two rejected
    documents[4].save()
    checklist = client_for(consultant).get(url).json()
    assert {i["key"]: i["state"] for i in checklist["items"]}["references"] == "rejected" or checklist["progress"] < 100
    assert checklist["progress"] == round(100 * 6 / 7)


def test_an_application_travels_to_enrolment(client_for, consultant, manager, applicant, course):
    complete_checklist(applicant, reviewer=manager)
    offer_letter = approved_document(applicant, "offer_letter", reviewer=manager)
    cas = approved_document(applicant, "cas", reviewer=manager)
    client = client_for(consultant)
    app_id = open_application(client, applicant, course).json()["id"]
    steps = [
        ("submitted", {}),
        ("conditional_offer", {"offer": {"conditions": "IELTS 7.0", "document_id": offer_letter.pk}}),
        ("unconditional_offer", {}),
        ("offer_accepted", {}),
        ("deposit_paid", {"offer": {"deposit_amount": "2000.00", "deposit_due": "2027-05-01"}}),
        ("confirmation_issued", {"confirmation": {"number": "E4G7H2", "document_id": cas.pk}}),
        ("visa_applied", {"visa": {"reference": "GWF012345"}}),
        ("visa_granted", {}),
        ("enrolled", {}),
    ]
    for to, extra in steps:
        response = move(client, app_id, to, **extra)
        assert response.status_code == 200, (to, response.json())
    body = response.json()
    assert body["status"] == "enrolled" and body["next_statuses"] == []
    assert body["offer"] == {
        "conditions": "IELTS 7.0",
        "deposit_amount": "2000.00",
        "deposit_due": "2027-05-01",
        "document_id": offer_letter.pk,
    }
    assert body["confirmation"] == {"kind": "cas", "number": "E4G7H2", "document_id": cas.pk}
    assert body["visa"]["applied_on"] == "2027-03-15" and body["visa"]["decided_on"] == "2027-03-15"
    assert [h["to"] for h in body["status_history"]] == ["draft"] + [to for to, _ in steps]
    final = move(client, app_id, "withdrawn", note="Changed their mind")
    assert final.status_code == 409 and final.json()["error"]["code"] == "invalid_transition"
    assert "final status" in final.json()["error"]["message"]


def test_a_document_of_the_wrong_kind_or_owner_is_refused(client_for, consultant, manager, applicant, course, office):
    other = StudentFactory(office=office)
    someone_elses = approved_document(other, "offer_letter", reviewer=manager)
    passport = approved_document(applicant, "passport", reviewer=manager)
    client = client_for(manager)
    app_id = open_application(client_for(consultant), applicant, course).json()["id"]
    move(client, app_id, "submitted", override_checklist=True, note="Urgent")
    for document, code in ((someone_elses, "unknown_document"), (passport, "wrong_document")):
        response = move(client, app_id, "unconditional_offer", offer={"document_id": document.pk})
        assert response.status_code == 400 and response.json()["error"]["code"] == code
    assert Application.objects.get().status == "submitted"  # nothing half-written


@pytest.mark.django_db(transaction=True)
def test_two_managers_moving_at_once_one_wins_one_409(client_for, manager, consultant, applicant, course, super_admin):
    app_id = open_application(client_for(consultant), applicant, course).json()["id"]
    move(client_for(manager), app_id, "submitted", override_checklist=True, note="Urgent")
    results, barrier = {}, threading.Barrier(2)

    def decide(user, to, extra):
        barrier.wait()
        try:
            results[to] = move(client_for(user), app_id, to, from_status="submitted", **extra)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(manager, "conditional_offer", {"offer": {"conditions": "IELTS 7"}})),
        threading.Thread(target=decide, args=(super_admin, "rejected", {"note": "Course full"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(response.status_code for response in results.values())
    assert codes == [200, 409]
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.json()["error"]["code"] in ("stale_status", "invalid_transition")
    application = Application.objects.get()
    assert application.status in ("conditional_offer", "rejected")
    assert StatusChange.objects.filter(application=application).count() == 3


def test_each_move_reaches_exactly_the_people_concerned(
    client_for,
    inbox,
    manager,
    consultant,
    applicant,
    course,
    other_manager,
    super_admin,
    office,
    django_capture_on_commit_callbacks,
):
    second_manager = ManagerFactory(office=office)
    listeners = {u.pk: inbox(u) for u in (applicant, consultant, manager, second_manager, other_manager, super_admin)}
    with django_capture_on_commit_callbacks(execute=True):
        app_id = open_application(client_for(consultant), applicant, course).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        refused = move(client_for(manager), app_id, "submitted")  # a refused move pushes nothing
        move(client_for(manager), app_id, "withdrawn", note="Student asked")
    assert refused.status_code == 409
    for user_id, drain in listeners.items():
        events = [data for name, data in drain() if name == "application_updated"]
        if user_id in (applicant.pk, consultant.pk, manager.pk, second_manager.pk):
            assert [e["status"] for e in events] == ["draft", "withdrawn"], user_id
            assert events[-1]["status_history"][-1]["note"] == "Student asked"
        else:
            assert events == [], user_id
    kinds = Notification.objects.filter(kind="application").values_list("recipient_id", flat=True)
    assert sorted(kinds) == sorted([applicant.pk, applicant.pk, consultant.pk])  # the mover is not told
