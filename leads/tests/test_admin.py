import pytest

from accounts.models import User
from accounts.tests.factories import PASSWORD, StudentFactory
from leads.models import Lead
from leads.services import lead_add_note
from leads.tests.factories import LeadFactory
from notifications.services import notification_create

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_manager_sees_own_office_leads_only(client, manager, office, other_office):
    mine, theirs = LeadFactory(office=office), LeadFactory(office=other_office)
    login(client, manager)
    page = client.get("/admin/leads/lead/").content.decode()
    assert mine.email in page and theirs.email not in page
    assert client.get(f"/admin/leads/lead/{theirs.id}/change/").status_code == 302  # "does not exist" redirect


def test_admin_actions_call_the_services(client, manager, office, consultant):
    lead = LeadFactory(office=office)
    login(client, manager)
    client.post(
        "/admin/leads/lead/",
        {"action": "assign", "_selected_action": [lead.id], "apply": "1", "consultant": consultant.id},
    )
    lead.refresh_from_db()
    assert lead.assigned_to == consultant and lead.activities.filter(kind="assigned").exists()
    client.post(
        "/admin/leads/lead/", {"action": "mark_lost", "_selected_action": [lead.id], "apply": "1", "reason": "Budget"}
    )
    lead.refresh_from_db()
    assert lead.status == "lost" and lead.lost_reason == "Budget"
    export = client.post("/admin/leads/lead/", {"action": "export_csv", "_selected_action": [lead.id]})
    assert lead.email in export.content.decode()


def test_students_cannot_use_the_admin(client, office):
    student = StudentFactory(office=office)
    client.login(email=student.email, password=PASSWORD)
    assert client.get("/admin/").status_code == 302


def test_consultant_admin_shows_their_leads(client, consultant, office):
    theirs, other = LeadFactory(office=office, assigned_to=consultant), LeadFactory(office=office)
    login(client, consultant)
    page = client.get("/admin/leads/lead/").content.decode()
    assert theirs.email in page and other.email not in page
    assert Lead.objects.count() == 2


def test_admin_add_goes_through_the_service_and_refuses_bad_input(client, receptionist):
    login(client, receptionist)
    formset = {"activities-TOTAL_FORMS": "0", "activities-INITIAL_FORMS": "0"}
    refused = client.post("/admin/leads/lead/add/", {"first_name": "NoContact", "source": "walk_in", **formset})
    assert refused.status_code == 200 and "email or a phone" in refused.content.decode()
    assert not Lead.objects.exists()
    client.post(
        "/admin/leads/lead/add/", {"first_name": "Desk", "email": "desk@example.com", "source": "walk_in", **formset}
    )
    lead = Lead.objects.get(email="desk@example.com")
    assert (
        lead.office_id == receptionist.office_id and lead.activities.filter(kind="created", actor=receptionist).exists()
    )


def test_a_consultant_edits_their_lead_through_the_service(client, consultant, office):
    theirs = LeadFactory(office=office, assigned_to=consultant)
    login(client, consultant)
    formset = {"activities-TOTAL_FORMS": "0", "activities-INITIAL_FORMS": "0"}
    client.post(
        f"/admin/leads/lead/{theirs.id}/change/",
        {"first_name": "Edited", "email": theirs.email, "phone": theirs.phone, "source": "event", **formset},
    )
    theirs.refresh_from_db()
    assert theirs.first_name == "Edited" and theirs.activities.filter(kind="note", actor=consultant).exists()


def test_every_crm_model_is_in_the_console_and_scoped(client, manager, office, other_office):
    mine, theirs = LeadFactory(office=office), LeadFactory(office=other_office)
    lead_add_note(actor=manager, lead=mine, text="visible note")

    lead_add_note(
        actor=User.objects.create_user("x@example.com", "pw", role="super_admin"), lead=theirs, text="hidden note"
    )
    notification_create(recipient=manager, kind="lead_assigned", title="my notification")
    login(client, manager)
    for path in (
        "/admin/leads/activity/",
        "/admin/notifications/notification/",
        "/admin/notifications/announcement/",
        "/admin/appointments/appointment/",
        "/admin/documents/document/",
        "/admin/offices/office/",
        "/admin/accounts/user/",
    ):
        assert client.get(path).status_code == 200, path
    activities = client.get("/admin/leads/activity/").content.decode()
    assert "visible note" in activities and "hidden note" not in activities
    assert "my notification" in client.get("/admin/notifications/notification/").content.decode()
