import pytest

from accounts.tests.factories import StudentFactory
from notifications.models import Announcement, Notification
from notifications.services import announcement_create, notification_create

pytestmark = pytest.mark.django_db


def test_inbox_read_and_read_all(client_for, consultant, receptionist):
    for n in range(3):
        notification_create(recipient=consultant, kind="lead_assigned", title=f"Lead {n}", data={"lead_id": n})
    notification_create(recipient=receptionist, kind="lead_assigned", title="Not yours")
    client = client_for(consultant)
    listed = client.get("/api/v1/notifications").json()["results"]
    assert [n["title"] for n in listed] == ["Lead 2", "Lead 1", "Lead 0"]
    assert client.post(f"/api/v1/notifications/{listed[0]['id']}/read").json()["read"] is True
    assert len(client.get("/api/v1/notifications?unread=true").json()["results"]) == 2
    assert client.post("/api/v1/notifications/read-all").json() == {"marked_read": 2}
    foreign = Notification.objects.get(recipient=receptionist)
    assert client.post(f"/api/v1/notifications/{foreign.id}/read").status_code == 404
    assert client.post("/api/v1/notifications/abc/read").status_code == 404


def test_notifications_are_pushed_live(consultant, inbox, django_capture_on_commit_callbacks):
    consultant_sockets = inbox(consultant)
    with django_capture_on_commit_callbacks(execute=True):
        notification_create(recipient=consultant, kind="lead_assigned", title="New lead")
    assert [(event, data["title"]) for event, data in consultant_sockets()] == [("notification_received", "New lead")]


@pytest.mark.parametrize("rows", [3, 20])
def test_notification_list_query_count_is_fixed(rows, client_for, consultant, django_assert_num_queries):
    for n in range(rows):
        notification_create(recipient=consultant, kind="lead_assigned", title=f"n{n}")
    client = client_for(consultant)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/notifications?limit=100").json()["results"]) == rows


def test_manager_announces_to_their_office_only(
    client_for, manager, consultant, student, other_consultant, other_office, inbox, django_capture_on_commit_callbacks
):
    sockets = {user.id: inbox(user) for user in (consultant, student, other_consultant)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post("/api/v1/announcements", {"title": "Closed Friday", "body": "Bank holiday"})
    assert response.status_code == 201
    assert [e for e, _ in sockets[consultant.id]()] == ["system_announcement"]
    assert [e for e, _ in sockets[student.id]()] == ["system_announcement"]
    assert sockets[other_consultant.id]() == []
    assert set(Notification.objects.filter(kind="announcement").values_list("recipient_id", flat=True)) == {
        consultant.id,
        student.id,
    }
    elsewhere = client_for(manager).post("/api/v1/announcements", {"title": "x", "office_id": other_office.id})
    assert elsewhere.status_code == 404


def test_super_admin_announces_to_everyone(client_for, super_admin, consultant, other_consultant):
    loner = StudentFactory(office=None)
    client_for(super_admin).post("/api/v1/announcements", {"title": "New portal"})
    assert set(Notification.objects.filter(kind="announcement").values_list("recipient_id", flat=True)) == {
        consultant.id,
        other_consultant.id,
        loner.id,
    }


@pytest.mark.parametrize("role", ["consultant", "receptionist", "student"])
def test_others_cannot_announce(role, request, client_for):
    response = client_for(request.getfixturevalue(role)).post("/api/v1/announcements", {"title": "Hi all"})
    assert response.status_code == 403
    assert not Announcement.objects.exists()


def test_announcement_list_is_scoped(client_for, manager, other_manager, super_admin, consultant):
    client_for(manager).post("/api/v1/announcements", {"title": "London only"})
    client_for(super_admin).post("/api/v1/announcements", {"title": "Everyone"})
    assert [a["title"] for a in client_for(consultant).get("/api/v1/announcements").json()["results"]] == [
        "Everyone",
        "London only",
    ]
    assert [a["title"] for a in client_for(other_manager).get("/api/v1/announcements").json()["results"]] == [
        "Everyone"
    ]
    assert client_for(manager).post("/api/v1/announcements", {"title": ""}).status_code == 400


@pytest.mark.parametrize("rows", [3, 15])
def test_announcement_list_query_count_is_fixed(rows, client_for, manager, consultant, django_assert_num_queries):
    for n in range(rows):
        announcement_create(actor=manager, title=f"a{n}")
    client = client_for(consultant)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/announcements?limit=100").json()["results"]) == rows
