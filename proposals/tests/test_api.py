"""Proposals over REST: built by a consultant, sent (a notification and `proposal_received`), accepted item
by item into draft applications in one transaction, declined, expired; the 404 rule per role and office."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from accounts.tests.factories import ConsultantFactory, StudentFactory
from applications.models import Application
from leads.models import Activity
from notifications.models import Notification
from proposals.models import LivingCost, Proposal
from proposals.services import proposals_expire

pytestmark = pytest.mark.django_db


def propose(client, student, courses, **extra):
    body = {
        "student_id": student.pk,
        "items": [{"course_id": c.pk, "intake": f"2027-{c.intakes[0]:02d}", "note": "fits"} for c in courses],
        "message": "Three good fits",
        "expires_at": (timezone.now() + timedelta(days=14)).isoformat(),
        **extra,
    }
    return client.post("/api/v1/proposals", body, format="json")


def sent_proposal(client, student, courses):
    created = propose(client, student, courses)
    assert created.status_code == 201, created.json()
    sent = client.post(f"/api/v1/proposals/{created.json()['id']}/send", {}, format="json")
    assert sent.status_code == 200, sent.json()
    return sent.json()


def test_a_consultant_proposes_with_costs_and_the_ineligible_course_flagged(client_for, consultant, applicant, courses):
    LivingCost.objects.create(country="GB", amount=Decimal("12000"), currency="GBP")
    LivingCost.objects.create(country="AU", amount=Decimal("21000"), currency="AUD")
    courses[0].tuition_fee, courses[0].currency = Decimal("18000"), "GBP"
    courses[0].save()
    response = propose(client_for(consultant), applicant, courses)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft" and body["consultant_id"] == consultant.pk
    leeds, monash, toronto = body["items"]
    assert leeds["estimated_cost"] == {
        "tuition": "18000.00",
        "living": "12000.00",
        "living_currency": "GBP",
        "total": "30000.00",
        "currency": "GBP",
    }
    assert monash["estimated_cost"]["living"] == "21000.00" and monash["estimated_cost"]["currency"] == "AUD"
    assert toronto["estimated_cost"]["living"] is None and toronto["estimated_cost"]["total"] is None
    assert [i["eligible"] for i in body["items"]] == [True, True, False]  # no IELTS on the profile: flagged
    assert {r["currency"] for r in body["estimated_cost"]} == {"GBP", "AUD", toronto["estimated_cost"]["currency"]}
    assert "commission" not in str(body)


def test_send_notifies_the_student_and_the_draft_is_hidden_from_them_until_then(
    client_for, consultant, applicant, courses, django_capture_on_commit_callbacks
):
    created = propose(client_for(consultant), applicant, courses[:2]).json()
    assert client_for(applicant).get(f"/api/v1/proposals/{created['id']}").status_code == 404
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sent = client_for(consultant).post(f"/api/v1/proposals/{created['id']}/send", {}, format="json")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert callbacks  # the live event and the delivery leave after commit
    assert Notification.objects.filter(recipient=applicant, data__proposal_id=created["id"]).count() == 1
    assert client_for(applicant).get(f"/api/v1/proposals/{created['id']}").json()["status"] == "sent"
    assert Activity.objects.filter(data__proposal_id=created["id"], kind="proposal").exists()
    again = client_for(consultant).post(f"/api/v1/proposals/{created['id']}/send", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "proposal_invalid_move"


def test_the_student_accepts_two_items_each_a_draft_application(client_for, consultant, applicant, courses):
    proposal = sent_proposal(client_for(consultant), applicant, courses)
    chosen = [proposal["items"][0]["id"], proposal["items"][2]["id"]]  # the ineligible one too: their choice
    response = client_for(applicant).post(
        f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": chosen}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["proposal"]["status"] == "accepted"
    assert [(a["course_id"], a["status"], a["consultant_id"]) for a in body["applications"]] == [
        (courses[0].pk, "draft", consultant.pk),
        (courses[2].pk, "draft", consultant.pk),
    ]
    assert [i["application_id"] is not None for i in body["proposal"]["items"]] == [True, False, True]
    again = client_for(applicant).post(
        f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": chosen}, format="json"
    )
    assert again.status_code == 409


def test_accept_is_all_or_nothing(client_for, consultant, applicant, courses):
    proposal = sent_proposal(client_for(consultant), applicant, courses[:2])
    Application.objects.create(  # the second course is already applied for: its draft cannot open
        student=applicant,
        course=courses[1],
        intake=timezone.datetime(2027, 7, 1).date(),
        consultant=consultant,
        office=applicant.office,
        destination="AU",
    )
    ids = [i["id"] for i in proposal["items"]]
    response = client_for(applicant).post(
        f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": ids}, format="json"
    )
    assert response.status_code == 409, response.json()
    assert Application.objects.filter(student=applicant).count() == 1
    assert Proposal.objects.get(pk=proposal["id"]).status == "sent"


def test_an_expired_proposal_cannot_be_accepted_even_before_the_job_runs(client_for, consultant, applicant, courses):
    proposal = sent_proposal(client_for(consultant), applicant, courses[:1])
    item = proposal["items"][0]["id"]
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        assert Proposal.objects.get(pk=proposal["id"]).status == "sent"  # the job has not run
        response = client_for(applicant).post(
            f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": [item]}, format="json"
        )
        assert response.status_code == 409 and response.json()["error"]["code"] == "proposal_expired"
        assert client_for(applicant).get(f"/api/v1/proposals/{proposal['id']}").json()["status"] == "expired"
        assert proposals_expire() == 1
        assert proposals_expire() == 0  # idempotent
    assert Proposal.objects.get(pk=proposal["id"]).status == "expired"
    assert not Application.objects.filter(student=applicant).exists()


def test_someone_elses_proposal_is_not_found(client_for, consultant, applicant, courses, office, other_consultant):
    proposal = sent_proposal(client_for(consultant), applicant, courses[:1])
    item = proposal["items"][0]["id"]
    stranger = StudentFactory(office=office)
    for user in (stranger, other_consultant, ConsultantFactory(office=office)):
        client = client_for(user)
        assert client.get(f"/api/v1/proposals/{proposal['id']}").status_code == 404
        accept = client.post(f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": [item]}, format="json")
        assert accept.status_code == 404, user.role
        assert client.get("/api/v1/proposals").json()["results"] == []
    # staff who see it may not accept it for the student
    assert (
        client_for(consultant)
        .post(f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": [item]}, format="json")
        .status_code
        == 404
    )


def test_scope_per_role(client_for, consultant, applicant, courses, manager, other_manager, receptionist, super_admin):
    proposal = sent_proposal(client_for(consultant), applicant, courses[:1])
    for user, seen in ((manager, True), (super_admin, True), (other_manager, False), (receptionist, False)):
        assert (client_for(user).get(f"/api/v1/proposals/{proposal['id']}").status_code == 200) is seen, user.role


def test_bad_input_is_refused_clearly(client_for, consultant, applicant, courses, other_office):
    client = client_for(consultant)
    cases = [
        ({"items": []}, 400),
        ({"items": [{"course_id": 10**12, "intake": "2027-09"}]}, 400),
        ({"items": [{"course_id": courses[0].pk, "intake": "2027-13"}]}, 400),
        ({"items": [{"course_id": courses[0].pk, "intake": "2027-10"}]}, 400),  # not an intake of the course
        ({"items": [{"course_id": courses[0].pk, "intake": "2026-09"}]}, 400),  # past
        ({"items": [{"course_id": courses[0].pk, "intake": "2027-09"}] * 2}, 400),
        ({"items": [{"course_id": 999999, "intake": "2027-09"}]}, 400),
        ({"expires_at": "2020-01-01T00:00:00Z"}, 400),
        ({"message": "x" * 5001}, 400),
        ({"student_id": StudentFactory(office=other_office).pk}, 400),
        ({"items": "nope"}, 400),
    ]
    for extra, status in cases:
        response = propose(client, applicant, courses[:1], **extra)
        assert response.status_code == status, (extra, response.json())
        assert set(response.json()["error"]) >= {"code", "message"}
    proposal = sent_proposal(client, applicant, courses[:1])
    bad_accepts = [{"item_ids": []}, {"item_ids": [999999]}, {"item_ids": "x"}, {"item_ids": [2**40]}, []]
    for body in bad_accepts:
        response = client_for(applicant).post(f"/api/v1/proposals/{proposal['id']}/accept", body, format="json")
        assert response.status_code == 400, (body, response.json())
    assert client_for(applicant).get("/api/v1/proposals/99999999999999999999").status_code == 404


def test_the_list_runs_a_fixed_number_of_queries(client_for, consultant, applicant, courses, django_assert_num_queries):
    client = client_for(consultant)
    for _ in range(3):
        propose(client, applicant, courses)
    client.get("/api/v1/proposals")  # warm: the session's user
    with django_assert_num_queries(3):  # the page, one prefetch of items with their courses, and the request's own
        response = client.get("/api/v1/proposals")
    assert len(response.json()["results"]) == 3


def test_a_bad_item_after_a_good_one_is_a_400_naming_it(client_for, consultant, applicant, courses):
    """Schemathesis found a 500: the first item passed, so the error to report was the second's."""
    items = [{"course_id": courses[0].id, "intake": "2031-09"}, {"course_id": courses[1].id, "intake": "09/2031"}]
    answer = client_for(consultant).post(
        "/api/v1/proposals", {"student_id": applicant.id, "items": items, "message": "x"}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith("items[1].intake:")
