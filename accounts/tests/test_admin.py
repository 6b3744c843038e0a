"""The staff console: who gets in, and a manager sees and changes their own office's people only."""

import pytest

from accounts.models import Role, User
from accounts.tests.factories import PASSWORD, ConsultantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, admitted",
    [("super_admin", True), ("manager", True), ("consultant", True), ("receptionist", True), ("student", False)],
)
def test_admin_login_is_for_office_roles_only(role, admitted, actors, client):
    response = client.post("/admin/login/?next=/admin/", {"username": actors[role].email, "password": PASSWORD})
    if admitted:
        assert response.status_code == 302 and response["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200
    else:
        assert response.status_code == 200  # the login form again, with an error
        assert client.get("/admin/").status_code == 302


def test_inactive_staff_cannot_log_in_or_keep_a_session(client, manager):
    client.force_login(manager)
    assert client.get("/admin/").status_code == 200
    User.objects.filter(pk=manager.pk).update(is_active=False)
    assert client.get("/admin/").status_code == 302
    response = client.post("/admin/login/", {"username": manager.email, "password": PASSWORD})
    assert response.status_code == 200


def test_manager_user_list_shows_their_office_only(client, manager, consultant, other_consultant, super_admin):
    client.force_login(manager)
    page = client.get("/admin/accounts/user/").content.decode()
    assert consultant.email in page
    assert other_consultant.email not in page
    assert super_admin.email not in page


def test_other_office_user_does_not_exist_for_a_manager(client, manager, other_consultant):
    client.force_login(manager)
    response = client.get(f"/admin/accounts/user/{other_consultant.pk}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"  # "does not exist"


def test_manager_edits_a_consultant_through_the_service(client, manager, consultant, office):
    client.force_login(manager)
    form = {
        "email": consultant.email,
        "first_name": "Renamed",
        "last_name": "X",
        "phone": "",
        "role": "consultant",
        "office": office.pk,
    }
    response = client.post(f"/admin/accounts/user/{consultant.pk}/change/", form)
    assert response.status_code == 302
    consultant.refresh_from_db()
    assert consultant.first_name == "Renamed"


def test_manager_cannot_promote_above_their_rank_in_the_admin(client, manager, consultant, office):
    client.force_login(manager)
    form = {
        "email": consultant.email,
        "first_name": "A",
        "last_name": "B",
        "phone": "",
        "role": "manager",
        "office": office.pk,
    }
    response = client.post(f"/admin/accounts/user/{consultant.pk}/change/", form, follow=True)
    assert "cannot give this role" in response.content.decode()
    consultant.refresh_from_db()
    assert consultant.role == Role.CONSULTANT and consultant.first_name != "A"


def test_manager_creates_staff_in_their_own_office(client, manager, office, other_office):
    client.force_login(manager)
    form = {
        "email": "new@example.com",
        "password": "Another-Horse-77",
        "first_name": "N",
        "last_name": "U",
        "phone": "",
        "role": "receptionist",
        "office": other_office.pk,
    }
    response = client.post("/admin/accounts/user/add/", form, follow=True)
    assert "Select a valid choice" in response.content.decode()  # an office they may not see is no choice
    assert not User.objects.filter(email="new@example.com").exists()
    form["office"] = office.pk
    client.post("/admin/accounts/user/add/", form)
    created = User.objects.get(email="new@example.com")
    assert created.office == office and created.check_password("Another-Horse-77")


def test_consultant_reads_but_cannot_change_users(client, consultant, receptionist):
    client.force_login(consultant)
    assert client.get("/admin/accounts/user/").status_code == 200
    response = client.get(f"/admin/accounts/user/{receptionist.pk}/change/")
    assert response.status_code == 200 and b'name="_save"' not in response.content
    assert client.get("/admin/accounts/user/add/").status_code == 403


def test_deactivate_action_goes_through_the_service(client, manager, consultant, office):
    peer = ConsultantFactory(office=office)
    client.force_login(manager)
    client.post("/admin/accounts/user/", {"action": "deactivate_users", "_selected_action": [consultant.pk, peer.pk]})
    assert User.objects.filter(pk__in=[consultant.pk, peer.pk], is_active=True).count() == 0


def test_nobody_deletes_users_in_the_admin(client, super_admin, consultant):
    client.force_login(super_admin)
    assert client.get(f"/admin/accounts/user/{consultant.pk}/delete/").status_code == 403


def test_manager_sets_a_consultants_cap_in_the_admin(client, manager, consultant, receptionist, office):
    client.force_login(manager)
    form = {
        "email": consultant.email,
        "first_name": "C",
        "last_name": "D",
        "phone": "",
        "role": "consultant",
        "office": office.pk,
        "max_open_leads": "6",
    }
    page = client.get(f"/admin/accounts/user/{consultant.pk}/change/").content.decode()
    assert 'name="max_open_leads"' in page and "Empty: no cap" in page
    assert client.post(f"/admin/accounts/user/{consultant.pk}/change/", form).status_code == 302
    consultant.refresh_from_db()
    assert consultant.max_open_leads == 6
    assert (
        client.post(f"/admin/accounts/user/{consultant.pk}/change/", {**form, "max_open_leads": ""}).status_code == 302
    )
    consultant.refresh_from_db()
    assert consultant.max_open_leads is None
    refused = client.post(f"/admin/accounts/user/{consultant.pk}/change/", {**form, "max_open_leads": "-1"})
    assert refused.status_code == 200  # the form again, with its error
    receptionist_form = {**form, "email": receptionist.email, "role": "receptionist", "max_open_leads": "2"}
    shown = client.post(f"/admin/accounts/user/{receptionist.pk}/change/", receptionist_form, follow=True)
    assert "Only consultants take a cap" in shown.content.decode()
    receptionist.refresh_from_db()
    assert receptionist.max_open_leads is None
