"""Offices in the staff console go through the same selectors and services as the API."""

import pytest

from offices.models import Office

pytestmark = pytest.mark.django_db


def office_form(office, **changes):
    form = {
        "name": office.name,
        "address": office.address,
        "phone": office.phone,
        "email": office.email,
        "timezone": office.timezone,
        "opens_at": "09:00",
        "closes_at": "17:00",
        "is_active": "on",
    }
    form.update(changes)
    return form


def test_manager_sees_their_office_only(client, manager, office, other_office):
    client.force_login(manager)
    page = client.get("/admin/offices/office/").content.decode()
    assert office.name in page and other_office.name not in page
    response = client.get(f"/admin/offices/office/{other_office.pk}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_manager_updates_their_office_but_cannot_add_or_delete(client, manager, office):
    client.force_login(manager)
    form = office_form(office, phone="+44 20 0000 0000")
    form.pop("is_active")  # read-only for managers
    assert client.post(f"/admin/offices/office/{office.pk}/change/", form).status_code == 302
    office.refresh_from_db()
    assert office.phone == "+44 20 0000 0000"
    assert client.get("/admin/offices/office/add/").status_code == 403
    assert client.get(f"/admin/offices/office/{office.pk}/delete/").status_code == 403


def test_super_admin_creates_an_office_with_a_valid_timezone_only(client, super_admin, office):
    client.force_login(super_admin)
    form = office_form(office, name="Leeds", timezone="Mars/Olympus")
    assert client.post("/admin/offices/office/add/", form).status_code == 200  # form error
    assert not Office.objects.filter(name="Leeds").exists()
    form["timezone"] = "Europe/London"
    assert client.post("/admin/offices/office/add/", form).status_code == 302
    assert Office.objects.filter(name="Leeds", timezone="Europe/London").exists()


def test_office_with_people_is_not_deleted_from_the_admin(client, super_admin, office, manager):
    client.force_login(super_admin)
    response = client.post(f"/admin/offices/office/{office.pk}/delete/", {"post": "yes"}, follow=True)
    assert Office.objects.filter(pk=office.pk).exists()
    assert "Cannot delete office" in response.content.decode()  # Django lists the people still in it


def test_students_have_no_office_admin(client, student):
    client.force_login(student)
    assert client.get("/admin/offices/office/").status_code == 302  # to the login page
