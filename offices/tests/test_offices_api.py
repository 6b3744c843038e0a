import pytest

from accounts.tests.factories import StudentFactory
from offices.models import Office
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

ROLES = ["super_admin", "manager", "consultant", "receptionist", "student"]


# role -> (own office, other office)
READ = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (200, 404),
    "student": (200, 404),
}
UPDATE = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (403, 404),
    "receptionist": (403, 404),
    "student": (403, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_reading_and_updating_offices(role, actors, client_for, office, other_office):
    client = client_for(actors[role])
    assert client.get(f"/api/v1/offices/{office.id}").status_code == READ[role][0]
    assert client.get(f"/api/v1/offices/{other_office.id}").status_code == READ[role][1]
    assert client.get(f"/api/v1/offices/{other_office.id}/members").status_code == READ[role][1]
    assert client.patch(f"/api/v1/offices/{office.id}", {"phone": "+1 555"}).status_code == UPDATE[role][0]
    assert client.patch(f"/api/v1/offices/{other_office.id}", {"phone": "+1 555"}).status_code == UPDATE[role][1]


@pytest.mark.parametrize(
    "role, status",
    [("super_admin", 201), ("manager", 403), ("consultant", 403), ("receptionist", 403), ("student", 403)],
)
def test_only_super_admin_creates_offices(role, status, actors, client_for):
    response = client_for(actors[role]).post("/api/v1/offices", {"name": "Leeds", "timezone": "Europe/London"})
    assert response.status_code == status
    assert Office.objects.filter(name="Leeds").exists() == (status == 201)


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "UTC+3", "x" * 100])
def test_office_timezone_must_be_iana(tz, client_for, super_admin):
    response = client_for(super_admin).post("/api/v1/offices", {"name": "Leeds", "timezone": tz})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert not Office.objects.filter(name="Leeds").exists()


@pytest.mark.parametrize(
    "week",
    [
        [{"weekday": 1, "opens_at": "18:00", "closes_at": "09:00"}],  # closes before it opens
        [
            {"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"},
            {"weekday": 1, "opens_at": "10:00", "closes_at": "12:00"},
        ],
        [{"weekday": 8, "opens_at": "09:00", "closes_at": "17:00"}],
        [{"weekday": 0, "opens_at": "09:00", "closes_at": "17:00"}],
        [{"weekday": 1, "opens_at": "9am", "closes_at": "17:00"}],
        [],  # never open: deactivate the office instead
        [{"weekday": 1}],
        "Monday to Friday",
    ],
)
def test_office_hours_must_make_a_week(week, client_for, super_admin, office):
    response = client_for(super_admin).post("/api/v1/offices", {"name": "Leeds", "opening_hours": week}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
    patched = client_for(super_admin).patch(f"/api/v1/offices/{office.pk}", {"opening_hours": week}, format="json")
    assert patched.status_code == 400
    assert not Office.objects.filter(name="Leeds").exists() and office.opening_hours.count() == 0


def test_a_new_office_opens_weekdays_and_takes_its_zones_country(client_for, super_admin):
    body = client_for(super_admin).post("/api/v1/offices", {"name": "Sydney", "timezone": "Australia/Sydney"}).json()
    assert body["country"] == "AU" and body["locale"] == "en-AU" and body["closed_days"] == []
    assert body["opening_hours"] == [
        {"weekday": day, "opens_at": "09:00:00", "closes_at": "17:00:00"} for day in range(1, 6)
    ]


def test_a_manager_sets_their_offices_week_and_closed_days(client_for, manager, office):
    week = [
        {"weekday": 1, "opens_at": "08:30:00", "closes_at": "19:00:00"},
        {"weekday": 6, "opens_at": "10:00:00", "closes_at": "13:00:00"},
    ]
    closed = [{"date": "2031-12-25", "reason": "Christmas"}, {"date": "2031-12-26"}]
    client = client_for(manager)
    body = client.patch(f"/api/v1/offices/{office.pk}", {"opening_hours": week, "closed_days": closed}, format="json")
    assert body.status_code == 200
    assert body.json()["opening_hours"] == week
    assert body.json()["closed_days"] == [
        {"date": "2031-12-25", "reason": "Christmas"},
        {"date": "2031-12-26", "reason": ""},
    ]
    # a change of name leaves the week as it is; a repeated date is refused whole
    assert client.patch(f"/api/v1/offices/{office.pk}", {"phone": "+44 20 7000 0000"}).json()["opening_hours"] == week
    twice = client.patch(f"/api/v1/offices/{office.pk}", {"closed_days": closed + closed[:1]}, format="json")
    assert twice.status_code == 400 and office.closed_days.count() == 2


def test_duplicate_office_name_is_409(client_for, super_admin, office):
    response = client_for(super_admin).post("/api/v1/offices", {"name": office.name})
    assert response.status_code in (400, 409)
    assert Office.objects.filter(name=office.name).count() == 1


def test_manager_cannot_close_their_office(client_for, manager, office):
    assert client_for(manager).patch(f"/api/v1/offices/{office.id}", {"is_active": False}).status_code == 403
    office.refresh_from_db()
    assert office.is_active


def test_office_with_members_cannot_be_deleted(client_for, super_admin, office, manager):
    response = client_for(super_admin).delete(f"/api/v1/offices/{office.id}")
    assert response.status_code == 409 and response.json()["error"]["code"] == "office_in_use"
    empty = OfficeFactory(name="Empty")
    assert client_for(super_admin).delete(f"/api/v1/offices/{empty.id}").status_code == 204


def test_members_lists_the_office_people(client_for, manager, consultant, office, other_consultant):
    ids = {u["id"] for u in client_for(manager).get(f"/api/v1/offices/{office.id}/members").json()["results"]}
    assert ids == {manager.id, consultant.id}


@pytest.mark.parametrize("rows", [3, 10])
def test_office_list_query_count_is_fixed(rows, client_for, super_admin, django_assert_num_queries):
    OfficeFactory.create_batch(rows)
    client = client_for(super_admin)
    with django_assert_num_queries(4):  # count, page, and each of the two hours tables once
        response = client.get("/api/v1/offices")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [3, 10])
def test_members_query_count_is_fixed(rows, client_for, manager, office, django_assert_num_queries):
    StudentFactory.create_batch(rows, office=office)
    client = client_for(manager)
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/offices/{office.id}/members")
    assert len(response.json()["results"]) == rows + 1
