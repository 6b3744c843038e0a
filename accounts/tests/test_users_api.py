import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ConsultantFactory, ManagerFactory, StudentFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

ROLES = ["super_admin", "manager", "consultant", "receptionist", "student"]


@pytest.fixture
def colleague(office):
    return ConsultantFactory(office=office, email="colleague@example.com")


# role -> (status for a colleague in the actor's office, status for someone in another office)
READ = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (200, 404),
    "receptionist": (200, 404),
    "student": (404, 404),
}
CHANGE = {
    "super_admin": (200, 200),
    "manager": (200, 404),
    "consultant": (403, 404),
    "receptionist": (403, 404),
    "student": (404, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_reading_users(role, actors, client_for, colleague, other_consultant):
    client = client_for(actors[role])
    own, other = READ[role]
    assert client.get(f"/api/v1/users/{colleague.id}").status_code == own
    assert client.get(f"/api/v1/users/{other_consultant.id}").status_code == other
    listed = {u["id"] for u in client.get("/api/v1/users").json()["results"]}
    assert (colleague.id in listed) == (own == 200)
    assert (other_consultant.id in listed) == (other == 200)
    assert client.get(f"/api/v1/users/{actors[role].id}").status_code == 200  # everyone sees themselves


@pytest.mark.parametrize("role", ROLES)
def test_changing_users(role, actors, client_for, colleague, other_consultant):
    client = client_for(actors[role])
    own, other = CHANGE[role]
    assert client.patch(f"/api/v1/users/{colleague.id}", {"first_name": "Changed"}).status_code == own
    assert client.patch(f"/api/v1/users/{other_consultant.id}", {"first_name": "Changed"}).status_code == other
    colleague.refresh_from_db()
    assert (colleague.first_name == "Changed") == (own == 200)


@pytest.mark.parametrize(
    "role, status",
    [("super_admin", 201), ("manager", 201), ("consultant", 403), ("receptionist", 403), ("student", 403)],
)
def test_creating_users(role, status, actors, client_for, office):
    body = {"email": "hire@example.com", "password": "Str0ng-pass-phrase", "role": "consultant", "office_id": office.id}
    response = client_for(actors[role]).post("/api/v1/users", body)
    assert response.status_code == status
    assert User.objects.filter(email="hire@example.com").exists() == (status == 201)
    if status == 201:
        assert response.json()["office_id"] == office.id


def test_manager_creates_in_own_office_only_and_never_above_their_rank(client_for, manager, other_office):
    client = client_for(manager)
    body = {"email": "x@example.com", "password": "Str0ng-pass-phrase", "role": "consultant"}
    created = client.post("/api/v1/users", body)
    assert created.status_code == 201 and created.json()["office_id"] == manager.office_id
    other = client.post("/api/v1/users", {**body, "email": "y@example.com", "office_id": other_office.id})
    missing = client.post("/api/v1/users", {**body, "email": "z@example.com", "office_id": other_office.id + 1000})
    # another office is as unknown as one that does not exist
    assert other.status_code == missing.status_code == 400
    for answer, office_id in ((other, other_office.id), (missing, other_office.id + 1000)):
        error = answer.json()["error"]
        assert error["details"] == {"office_id": [f'Invalid pk "{office_id}" - object does not exist.']}
    for role in ("manager", "super_admin"):
        response = client.post("/api/v1/users", {**body, "email": f"{role}@x.example.com", "role": role})
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_too_high"
    promote = client.patch(f"/api/v1/users/{created.json()['id']}", {"role": "manager"})
    assert promote.status_code == 403
    assert User.objects.get(pk=created.json()["id"]).role == Role.CONSULTANT


def test_staff_need_an_office_and_bad_office_is_400(client_for, super_admin):
    client = client_for(super_admin)
    body = {"email": "x@example.com", "password": "Str0ng-pass-phrase", "role": "consultant"}
    assert client.post("/api/v1/users", body).json()["error"]["code"] == "office_required"
    assert client.post("/api/v1/users", {**body, "office_id": 999999}).status_code == 400
    assert client.post("/api/v1/users", {**body, "role": "wizard"}).status_code == 400
    assert not User.objects.filter(email="x@example.com").exists()


def test_deactivation_blacklists_refresh_tokens_and_closes_sockets(
    client_for, api_client, manager, colleague, django_capture_on_commit_callbacks, inbox
):
    tokens = api_client.post("/api/v1/auth/login", {"email": colleague.email, "password": PASSWORD}).json()
    second = str(RefreshToken.for_user(colleague))
    colleague_sockets = inbox(colleague)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(manager).post(f"/api/v1/users/{colleague.id}/deactivate")
    assert response.status_code == 200 and response.json()["is_active"] is False

    assert colleague_sockets() == [("session.revoke", None)]
    for refresh in (tokens["refresh"], second):
        assert api_client.post("/api/v1/auth/refresh", {"refresh": refresh}).status_code == 401
    assert api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}").status_code == 401
    assert api_client.post("/api/v1/auth/login", {"email": colleague.email, "password": PASSWORD}).status_code == 401


def test_nobody_deactivates_themselves_or_a_peer(client_for, manager, office, super_admin):
    peer = ManagerFactory(office=office, email="peer@example.com")
    assert client_for(manager).post(f"/api/v1/users/{peer.id}/deactivate").status_code == 403
    assert client_for(manager).post(f"/api/v1/users/{manager.id}/deactivate").status_code == 403
    assert client_for(super_admin).delete(f"/api/v1/users/{super_admin.id}").status_code == 403


def test_non_numeric_id_is_404(client_for, manager):
    assert client_for(manager).get("/api/v1/users/abc").status_code == 404


@pytest.mark.parametrize("rows", [3, 12])
def test_user_list_query_count_is_fixed(rows, client_for, manager, office, django_assert_num_queries):
    StudentFactory.create_batch(rows, office=office)
    client = client_for(manager)
    # auth user lookup, page of users (office joined) — whatever the page size
    with django_assert_num_queries(2):
        response = client.get("/api/v1/users?limit=50")
    assert len(response.json()["results"]) == rows + 1


def test_user_list_filters(client_for, manager, office, colleague):
    StudentFactory(office=office, first_name="Zed")
    client = client_for(manager)
    roles = {u["role"] for u in client.get("/api/v1/users?role=consultant").json()["results"]}
    assert roles == {"consultant"}
    assert [u["first_name"] for u in client.get("/api/v1/users?q=zed").json()["results"]] == ["Zed"]
    assert client.get("/api/v1/users?role=wizard").status_code == 400


def test_pagination_has_next_link(client_for, manager, office):
    StudentFactory.create_batch(5, office=office)
    first = client_for(manager).get("/api/v1/users?limit=2").json()
    assert len(first["results"]) == 2 and first["next"]
    second = client_for(manager).get(first["next"]).json()
    assert not {u["id"] for u in first["results"]} & {u["id"] for u in second["results"]}


# --- a consultant's cap on open leads (lead routing) --------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_setting_a_consultants_cap_per_role(role, actors, client_for, colleague, other_consultant):
    """Managers for their office's consultants, super admins for anyone's; others as for any change."""
    client = client_for(actors[role])
    own, other = CHANGE[role]
    response = client.patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": 7}, format="json")
    assert response.status_code == own
    assert client.patch(f"/api/v1/users/{other_consultant.id}", {"max_open_leads": 7}, format="json").status_code == (
        other
    )
    colleague.refresh_from_db()
    assert (colleague.max_open_leads == 7) == (own == 200)
    if own == 200:
        assert response.json()["max_open_leads"] == 7


def test_a_cap_is_a_number_from_zero_or_null(client_for, manager, colleague):
    client = client_for(manager)
    for value, expected in ((0, 0), (None, None), (25, 25)):
        response = client.patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": value}, format="json")
        assert response.status_code == 200 and response.json()["max_open_leads"] == expected
    assert client.get(f"/api/v1/users/{colleague.id}").json()["max_open_leads"] == 25
    client.patch(f"/api/v1/users/{colleague.id}", {"first_name": "Kept"}, format="json")  # other changes keep it
    colleague.refresh_from_db()
    assert colleague.max_open_leads == 25
    for hostile in (-1, 2**31, 2**63, "ten", "1.5", [3], {"n": 3}, True):
        response = client.patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": hostile}, format="json")
        assert response.status_code == 400, (hostile, response.status_code)
        body = response.json()["error"]
        assert body["code"] == "validation_error" and "max_open_leads" in body["details"], (hostile, body)
    colleague.refresh_from_db()
    assert colleague.max_open_leads == 25


def test_only_consultants_take_a_cap_and_one_who_stops_being_one_loses_it(
    client_for, manager, receptionist, colleague, office
):
    client = client_for(manager)
    refused = client.patch(f"/api/v1/users/{receptionist.id}", {"max_open_leads": 3}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "max_open_leads_consultants_only"
    body = {"email": "desk2@example.com", "password": "Str0ng-pass-phrase", "role": "receptionist", "max_open_leads": 3}
    refused = client.post("/api/v1/users", body, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "max_open_leads_consultants_only"
    hired = client.post("/api/v1/users", {**body, "role": "consultant"}, format="json")
    assert hired.status_code == 201 and hired.json()["max_open_leads"] == 3
    assert client.patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": 4}, format="json").status_code == 200
    moved = client.patch(f"/api/v1/users/{colleague.id}", {"role": "receptionist"}, format="json")
    assert moved.status_code == 200 and moved.json()["max_open_leads"] is None
    colleague.refresh_from_db()
    assert colleague.max_open_leads is None


def test_routing_reads_the_cap_the_manager_set(client_for, manager, receptionist, colleague, office):
    client = client_for(manager)
    assert client.patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": 1}, format="json").status_code == 200
    desk = client_for(receptionist)
    first = desk.post("/api/v1/leads", {"first_name": "A", "email": "a@example.com"}, format="json").json()
    second = desk.post("/api/v1/leads", {"first_name": "B", "email": "b@example.com"}, format="json").json()
    assert first["assigned_to"] == colleague.id and second["assigned_to"] is None  # the colleague is full
    assert client.patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": None}, format="json").status_code == 200
    third = desk.post("/api/v1/leads", {"first_name": "C", "email": "c@example.com"}, format="json").json()
    assert third["assigned_to"] == colleague.id
    assert Lead.objects.filter(assigned_to=colleague).count() == 2


def test_the_cap_stays_out_of_what_students_and_contacts_see(client_for, manager, student, colleague, office):
    """Only the users API (people management, office-scoped) shows it; a student's contacts and `auth/me` do not."""
    client_for(manager).patch(f"/api/v1/users/{colleague.id}", {"max_open_leads": 9}, format="json")
    LeadFactory(office=office, student=student, assigned_to=colleague, email=student.email)
    contacts = client_for(student).get("/api/v1/conversations/suggested-contacts").json()["results"]
    assert colleague.id in {c["id"] for c in contacts}, contacts
    assert all("max_open_leads" not in c for c in contacts)
    assert "max_open_leads" not in client_for(colleague).get("/api/v1/auth/me").json()
    assert client_for(colleague).get(f"/api/v1/users/{colleague.id}").json()["max_open_leads"] == 9
