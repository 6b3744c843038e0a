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


def test_office_hours_must_be_in_order(client_for, super_admin):
    response = client_for(super_admin).post(
        "/api/v1/offices", {"name": "Leeds", "opens_at": "18:00", "closes_at": "09:00"}
    )
    assert response.status_code == 400


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
    with django_assert_num_queries(2):
        response = client.get("/api/v1/offices")
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [3, 10])
def test_members_query_count_is_fixed(rows, client_for, manager, office, django_assert_num_queries):
    StudentFactory.create_batch(rows, office=office)
    client = client_for(manager)
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/offices/{office.id}/members")
    assert len(response.json()["results"]) == rows + 1
