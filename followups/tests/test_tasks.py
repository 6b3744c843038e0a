"""Tasks over REST and the reminder job: scope per role, the assignee must see the subject, done tasks on
the timeline, one reminder per task even with two runs at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import ConsultantFactory
from followups.models import Task
from followups.selectors import open_tasks_for, overdue_tasks_for
from followups.services import task_reminders_send
from leads.models import Activity
from leads.tests.factories import LeadFactory
from notifications.models import Notification


def make_task(client, **body):
    body = {"title": "Call back", "due_at": (timezone.now() + timedelta(hours=1)).isoformat(), **body}
    return client.post("/api/v1/tasks", body, format="json")


@pytest.mark.django_db
def test_a_consultant_sets_a_task_on_their_lead_and_completes_it_onto_the_timeline(client_for, consultant, office):
    lead = LeadFactory(office=office, assigned_to=consultant)
    client = client_for(consultant)
    created = make_task(client, lead_id=lead.pk, priority="high")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["assignee_id"] == consultant.pk and body["subject"] == {
        "kind": "lead",
        "id": lead.pk,
        "name": lead.full_name,
    }
    assert [t.pk for t in open_tasks_for(consultant, lead_id=lead.pk)] == [body["id"]]
    done = client.patch(f"/api/v1/tasks/{body['id']}", {"status": "done"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "done" and done.json()["done_by_id"] == consultant.pk
    assert Activity.objects.filter(lead=lead, kind="task", data__task_id=body["id"]).count() == 1
    assert list(open_tasks_for(consultant, lead_id=lead.pk)) == []


@pytest.mark.django_db
def test_a_task_on_something_the_assignee_cannot_see_is_refused(client_for, manager, consultant, office):
    lead = LeadFactory(office=office, assigned_to=ConsultantFactory(office=office))
    response = make_task(client_for(manager), lead_id=lead.pk, assignee_id=consultant.pk)
    assert response.status_code == 400 and response.json()["error"]["code"] == "task_assignee_cannot_see"
    ok = make_task(client_for(manager), lead_id=lead.pk, assignee_id=lead.assigned_to_id)
    assert ok.status_code == 201


@pytest.mark.django_db
def test_scope_per_role_and_office(
    client_for, manager, consultant, receptionist, student, other_manager, super_admin, office
):
    lead = LeadFactory(office=office, assigned_to=consultant)
    task_id = make_task(client_for(manager), lead_id=lead.pk, assignee_id=consultant.pk).json()["id"]
    seen = {
        manager: True,
        consultant: True,
        super_admin: True,
        receptionist: False,
        student: False,
        other_manager: False,
    }
    for user, visible in seen.items():
        client = client_for(user)
        assert (client.get(f"/api/v1/tasks/{task_id}").status_code == 200) is visible, user.role
        if not visible:
            assert client.patch(f"/api/v1/tasks/{task_id}", {"status": "done"}, format="json").status_code == 404
            assert client.delete(f"/api/v1/tasks/{task_id}").status_code == 404
    # another office's lead is unknown to a task's author
    other = LeadFactory(office=other_manager.office)
    assert make_task(client_for(manager), lead_id=other.pk).json()["error"]["code"] == "task_unknown_subject"


@pytest.mark.django_db
def test_bad_input(client_for, manager, office):
    lead = LeadFactory(office=office)
    client = client_for(manager)
    for body in (
        {"lead_id": lead.pk, "student_id": 1},
        {},
        {"lead_id": 2**40},
        {"lead_id": lead.pk, "due_at": "tomorrow"},
        {"lead_id": lead.pk, "priority": "urgent"},
        {"lead_id": lead.pk, "title": "x" * 201},
        {"lead_id": lead.pk, "assignee_id": 999999},
    ):
        response = make_task(client, **body)
        assert response.status_code == 400, (body, response.json())
    assert client.get("/api/v1/tasks?overdue=maybe").status_code == 400
    assert client.get("/api/v1/tasks/abc").status_code == 404


@pytest.mark.django_db
def test_the_list_runs_a_fixed_number_of_queries(client_for, manager, office, django_assert_num_queries):
    client = client_for(manager)
    for _ in range(3):
        make_task(client, lead_id=LeadFactory(office=office).pk)
    client.get("/api/v1/tasks")
    with django_assert_num_queries(1):  # the page, its subjects and assignees joined (the user comes from the cache)
        response = client.get("/api/v1/tasks")
    assert len(response.json()["results"]) == 3


@pytest.mark.django_db
def test_overdue_tasks_for_the_home(consultant, office):
    lead = LeadFactory(office=office, assigned_to=consultant)
    now = timezone.now()
    late = Task.objects.create(
        title="Late", due_at=now - timedelta(hours=2), assignee=consultant, lead=lead, office=office
    )
    Task.objects.create(title="Later", due_at=now + timedelta(hours=2), assignee=consultant, lead=lead, office=office)
    assert [t.pk for t in overdue_tasks_for(consultant)] == [late.pk]


@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_remind_each_task_once(consultant, office):
    lead = LeadFactory(office=office, assigned_to=consultant)
    due = timezone.now() - timedelta(minutes=1)
    tasks = [
        Task.objects.create(title=f"T{i}", due_at=due, assignee=consultant, lead=lead, office=office) for i in range(20)
    ]
    Task.objects.create(title="Future", due_at=due + timedelta(days=1), assignee=consultant, lead=lead, office=office)
    barrier, counts = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            counts.append(task_reminders_send())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 20
    assert Notification.objects.filter(kind="task_due").count() == 20
    assert sorted(n.data["task_id"] for n in Notification.objects.filter(kind="task_due")) == sorted(
        t.pk for t in tasks
    )
    assert task_reminders_send() == 0
