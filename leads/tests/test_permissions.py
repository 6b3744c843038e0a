"""Every lead endpoint, for every role, against a lead of their office assigned to the office's
consultant ("mine"), an unassigned lead of their office, and a lead of another office.
Hidden answers 404; visible but not allowed answers 403."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import StudentFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

H, F = 404, 403  # hidden, forbidden

# endpoint -> role -> expected status for (mine, unassigned in the office, another office's lead)
TABLE = {
    "retrieve": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (200, 200, H),
        "student": (H, H, H),
    },
    "activities": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (200, 200, H),
        "student": (H, H, H),
    },
    "note": {
        "super_admin": (201, 201, 201),
        "manager": (201, 201, H),
        "consultant": (201, H, H),
        "receptionist": (201, 201, H),
        "student": (H, H, H),
    },
    "update": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (F, F, H),
        "student": (H, H, H),
    },
    "status": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (F, F, H),
        "student": (H, H, H),
    },
    "assign": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (F, H, H),
        "receptionist": (F, F, H),
        "student": (H, H, H),
    },
    "convert": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (F, F, H),
        "student": (H, H, H),
    },
    "escalate": {
        "super_admin": (200, 200, 200),
        "manager": (200, 200, H),
        "consultant": (200, H, H),
        "receptionist": (F, F, H),
        "student": (H, H, H),
    },
    "delete": {
        "super_admin": (204, 204, 204),
        "manager": (204, 204, H),
        "consultant": (F, H, H),
        "receptionist": (F, F, H),
        "student": (H, H, H),
    },
}


@pytest.fixture
def actors(super_admin, manager, consultant, receptionist, student, other_manager):
    return {
        "super_admin": super_admin,
        "manager": manager,
        "consultant": consultant,
        "receptionist": receptionist,
        "student": student,
    }


@pytest.fixture
def targets(office, other_office, consultant, other_consultant):
    # Each lead has an account, so escalation has someone to talk to.
    return [
        (LeadFactory(office=office, assigned_to=consultant, student=StudentFactory(office=office)), consultant),
        (LeadFactory(office=office, student=StudentFactory(office=office)), consultant),
        (
            LeadFactory(office=other_office, assigned_to=other_consultant, student=StudentFactory(office=other_office)),
            other_consultant,
        ),
    ]


def call(client, endpoint, lead, office_consultant):
    url = f"/api/v1/leads/{lead.id}"
    return {
        "retrieve": lambda: client.get(url),
        "activities": lambda: client.get(f"{url}/activities"),
        "note": lambda: client.post(f"{url}/activities", {"text": "Called back"}),
        "update": lambda: client.patch(url, {"first_name": "Renamed"}),
        "status": lambda: client.post(f"{url}/status", {"status": "contacted"}),
        # Assign the lead to a consultant of the lead's own office, so only the caller's rights decide.
        "assign": lambda: client.post(f"{url}/assign", {"consultant_id": office_consultant.id}),
        "convert": lambda: client.post(f"{url}/convert"),
        "escalate": lambda: client.post(f"{url}/escalate", {"note": "Needs a manager"}),
        "delete": lambda: client.delete(url),
    }[endpoint]()


@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist", "student"])
@pytest.mark.parametrize("endpoint", list(TABLE))
def test_every_lead_endpoint_for_every_role(endpoint, role, actors, client_for, targets, settings):
    settings.AUTO_CREATE_CONVERSATIONS = True
    client = client_for(actors[role])
    for (lead, office_consultant), expected in zip(targets, TABLE[endpoint][role], strict=True):
        before = Lead.objects.filter(pk=lead.pk).values().first()
        response = call(client, endpoint, lead, office_consultant)
        assert response.status_code == expected, (endpoint, role, lead, response.content)
        if expected in (H, F):
            assert response.json()["error"]["code"] == {H: "not_found", F: "permission_denied"}[expected]
            # refused means nothing changed
            assert Lead.objects.filter(pk=lead.pk).values().first() == before


# role -> which of (mine, unassigned, another office's) the list and the export show
LISTED = {
    "super_admin": (1, 1, 1),
    "manager": (1, 1, 0),
    "consultant": (1, 0, 0),
    "receptionist": (1, 1, 0),
    "student": (0, 0, 0),
}


@pytest.mark.parametrize("role", list(LISTED))
def test_list_and_export_show_only_visible_leads(role, actors, client_for, targets):
    client = client_for(actors[role])
    expected = {lead.id for (lead, _), shown in zip(targets, LISTED[role], strict=True) if shown}
    assert {row["id"] for row in client.get("/api/v1/leads").json()["results"]} == expected
    export = client.get("/api/v1/leads/export")
    assert export.status_code == 200
    rows = b"".join(export.streaming_content).decode().strip().splitlines()[1:]
    assert {int(row.split(",")[0]) for row in rows} == expected
    # the other office's consultant filter does not reveal anything either
    assert {
        row["id"] for row in client.get(f"/api/v1/leads?office={targets[2][0].office_id}").json()["results"]
    } == expected & {targets[2][0].id}


@pytest.mark.parametrize(
    "role, status",
    [("super_admin", 200), ("manager", 200), ("receptionist", 200), ("consultant", 403), ("student", 403)],
)
def test_import_by_role(role, status, actors, client_for, office):
    upload = SimpleUploadedFile("leads.csv", b"first_name,email\nIan,ian@example.com\n", content_type="text/csv")
    response = client_for(actors[role]).post(
        "/api/v1/leads/import", {"file": upload, "office_id": office.id}, format="multipart"
    )
    assert response.status_code == status
    assert Lead.objects.filter(email="ian@example.com").exists() == (status == 200)


def test_import_into_another_office_is_hidden(client_for, manager, other_office):
    upload = SimpleUploadedFile("leads.csv", b"first_name,email\nIan,ian@example.com\n", content_type="text/csv")
    response = client_for(manager).post(
        "/api/v1/leads/import", {"file": upload, "office_id": other_office.id}, format="multipart"
    )
    assert response.status_code == 404 and not Lead.objects.exists()
