"""Two accepts of the same proposal at once (two threads, two database connections, the real database): the
proposal's row lock makes them take turns; the first opens the applications, the second finds the proposal
accepted and gets 409 `proposal_invalid_move`; no application is opened twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from applications.models import Application
from proposals.models import Proposal, ProposalItem
from proposals.tests.test_api import sent_proposal

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_concurrent_accepts_one_wins_the_other_409_no_doubles(client_for, consultant, applicant, courses):
    proposal = sent_proposal(client_for(consultant), applicant, courses[:2])
    item_ids = [item["id"] for item in proposal["items"]]
    barrier, answers, errors = threading.Barrier(2), [], []

    def accept():
        client = client_for(applicant)  # its own client; the thread its own database connection
        try:
            barrier.wait()
            answers.append(
                client.post(f"/api/v1/proposals/{proposal['id']}/accept", {"item_ids": item_ids}, format="json")
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(answers) == 2
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409], [a.content[:300] for a in answers]
    won = next(a for a in answers if a.status_code == 200).json()
    lost = next(a for a in answers if a.status_code == 409).json()
    assert lost["error"]["code"] == "proposal_invalid_move" and lost["error"]["details"] == {"status": "accepted"}
    assert len(won["applications"]) == 2
    opened = Application.objects.filter(student=applicant)
    assert opened.count() == 2 and sorted(opened.values_list("course_id", flat=True)) == sorted(
        c.pk for c in courses[:2]
    )
    assert {a["id"] for a in won["applications"]} == set(opened.values_list("pk", flat=True))
    assert set(ProposalItem.objects.filter(pk__in=item_ids).values_list("application_id", flat=True)) == set(
        opened.values_list("pk", flat=True)
    )
    assert Proposal.objects.get(pk=proposal["id"]).status == "accepted"


def test_an_accept_racing_a_decline_leaves_one_decision(client_for, consultant, applicant, courses):
    """Accept and decline at once: whichever takes the lock first decides; the other gets 409."""
    proposal = sent_proposal(client_for(consultant), applicant, courses[:1])
    barrier, answers = threading.Barrier(2), {}
    url = f"/api/v1/proposals/{proposal['id']}"

    def act(name: str, body: dict):
        client = client_for(applicant)
        try:
            barrier.wait()
            answers[name] = client.post(f"{url}/{name}", body, format="json")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("accept", {"item_ids": [proposal["items"][0]["id"]]})),
        threading.Thread(target=act, args=("decline", {"reason": "changed my mind"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers.values()) == [200, 409]
    status = Proposal.objects.get(pk=proposal["id"]).status
    accepted = answers["accept"].status_code == 200
    assert status == ("accepted" if accepted else "declined")
    assert Application.objects.filter(student=applicant).count() == (1 if accepted else 0)
    assert timezone.now() - timedelta(minutes=5) < Proposal.objects.get(pk=proposal["id"]).decided_at
