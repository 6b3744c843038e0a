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
        "country": "GB",
        "is_active": "on",
        **inline("opening_hours", [{"weekday": 1, "opens_at": "09:00", "closes_at": "17:00"}]),
        **inline("closed_days", []),
    }
    form.update(changes)
    return form


def inline(prefix, rows, initial=0):
    form = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for n, row in enumerate(rows):
        form |= {f"{prefix}-{n}-{field}": value for field, value in row.items()}
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
    assert [(h.weekday, f"{h.opens_at:%H:%M}") for h in office.opening_hours.all()] == [(1, "09:00")]
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


def test_the_week_and_closed_days_are_set_in_the_office_settings(client, manager, office):
    client.force_login(manager)
    form = office_form(office)
    form.pop("is_active")
    form |= inline(
        "opening_hours",
        [
            {"weekday": 1, "opens_at": "08:00", "closes_at": "18:00"},
            {"weekday": 2, "opens_at": "08:00", "closes_at": "18:00"},
            {"weekday": 6, "opens_at": "10:00", "closes_at": "12:00"},
        ],
    )
    form |= inline("closed_days", [{"date": "2031-12-25", "reason": "Christmas"}])
    assert client.post(f"/admin/offices/office/{office.pk}/change/", form).status_code == 302
    assert [(h.weekday, f"{h.opens_at:%H:%M}-{h.closes_at:%H:%M}") for h in office.opening_hours.all()] == [
        (1, "08:00-18:00"),
        (2, "08:00-18:00"),
        (6, "10:00-12:00"),
    ]
    assert [(str(d.date), d.reason) for d in office.closed_days.all()] == [("2031-12-25", "Christmas")]
    page = client.get(f"/admin/offices/office/{office.pk}/change/").content.decode()
    assert "Opening hours" in page and "Closed days" in page


def test_an_office_without_a_day_open_is_refused_in_the_settings(client, manager, office):
    client.force_login(manager)
    form = office_form(office) | inline("opening_hours", [])
    form.pop("is_active")
    response = client.post(f"/admin/offices/office/{office.pk}/change/", form, follow=True)
    assert "opens at least one day a week" in response.content.decode()
    assert office.opening_hours.count() == 0  # (the default week still applies)
