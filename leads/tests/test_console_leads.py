"""The lead workspace in the console: board, lead page actions and the add form's duplicate check,
all through the lead services (the API's rules), scoped by the lead selector."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import PASSWORD, ConsultantFactory, StudentFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from messaging.models import Conversation

pytestmark = pytest.mark.django_db
FORMSET: dict[str, str] = {}


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def act(client, lead, **data):
    return client.post(f"/admin/leads/lead/{lead.pk}/act/", {"next": "/admin/leads/lead/board/", **data})


def flash(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_board_columns_hold_the_pipeline(client, manager, office, other_office, consultant):
    LeadFactory(office=office, first_name="Newbie")
    LeadFactory(office=office, status="qualified", assigned_to=consultant, first_name="Qualia")
    LeadFactory(office=office, status="lost", lost_reason="Budget", first_name="Gone")
    LeadFactory(office=other_office, first_name="Elsewhere")
    page = login(client, manager).get("/admin/leads/lead/board/")
    columns = {c["status"]: c for c in page.context["columns"]}
    assert [lead.first_name for lead in columns["new"]["leads"]] == ["Newbie"]
    assert columns["qualified"]["count"] == 1 and columns["lost"]["leads"][0].first_name == "Gone"
    assert "Elsewhere" not in page.content.decode()
    # only the moves the service allows: forward stages and lost, never back
    assert [s for s, _ in columns["qualified"]["leads"][0].next_statuses] == ["applied", "lost"]
    assert columns["lost"]["leads"][0].next_statuses == []


def test_manager_assigns_a_waiting_lead_from_the_board(client, manager, office, consultant):
    lead = LeadFactory(office=office)
    response = act(login(client, manager), lead, act="assign", consultant=consultant.pk)
    assert response.status_code == 302 and response["Location"] == "/admin/leads/lead/board/"
    lead.refresh_from_db()
    assert lead.assigned_to == consultant and lead.activities.filter(kind="assigned", actor=manager).exists()


def test_a_consultant_of_another_office_cannot_be_chosen(client, manager, office, other_consultant):
    lead = LeadFactory(office=office)
    response = act(login(client, manager), lead, act="assign", consultant=other_consultant.pk)
    lead.refresh_from_db()
    assert lead.assigned_to is None and "Choose a consultant." in flash(response)[-1]


def test_status_moves_follow_the_pipeline_and_lost_asks_why(client, consultant, office):
    lead = LeadFactory(office=office, assigned_to=consultant, status="contacted")
    login(client, consultant)
    back = act(client, lead, act="status", status="new")
    lead.refresh_from_db()
    assert lead.status == "contacted" and "cannot go from contacted back to new" in flash(back)[-1]
    no_reason = act(client, lead, act="status", status="lost")
    lead.refresh_from_db()
    assert lead.status == "contacted" and "Say why the lead was lost." in flash(no_reason)[-1]
    act(client, lead, act="status", status="qualified")
    act(client, lead, act="status", status="lost", reason="Chose another agency")
    lead.refresh_from_db()
    assert lead.status == "lost" and lead.lost_reason == "Chose another agency"
    assert list(lead.activities.filter(kind="status_changed").values_list("data__to", flat=True).order_by("id")) == [
        "qualified",
        "lost",
    ]


def test_convert_and_escalate_call_the_services(client, manager, office, consultant):
    student = StudentFactory(office=office)
    lead = LeadFactory(office=office, assigned_to=consultant, student=student, status="applied")
    login(client, manager)
    act(client, lead, act="escalate", note="Wants to talk fees")
    assert Conversation.objects.filter(direct_key=Conversation.direct_key_for(manager.pk, student.pk)).exists()
    act(client, lead, act="convert")
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert set(lead.activities.values_list("kind", flat=True)) >= {"escalated", "converted"}


def test_receptionist_reads_and_notes_but_does_not_move_leads(client, receptionist, office):
    lead = LeadFactory(office=office)
    login(client, receptionist)
    board = client.get("/admin/leads/lead/board/")
    card = board.context["columns"][0]["leads"][0]
    assert card.next_statuses == [] and card.consultant_choices == []
    refused = act(client, lead, act="status", status="contacted")
    lead.refresh_from_db()
    assert lead.status == "new" and "You cannot change this lead." in flash(refused)[-1]
    act(client, lead, act="note", text="Came by the desk, will call back")
    assert lead.activities.filter(kind="note", actor=receptionist, text__startswith="Came by").exists()


def test_the_lead_page_carries_the_timeline_and_actions(client, manager, office, consultant):
    lead = LeadFactory(office=office)
    act(login(client, manager), lead, act="note", text="First call went well")
    page = client.get(f"/admin/leads/lead/{lead.pk}/change/")
    body = page.content.decode()
    assert "First call went well" in body and 'id="timeline"' in body
    assert f'action="/admin/leads/lead/{lead.pk}/act/"' in body and "Move to Contacted" in body
    assert consultant.full_name in body  # offered for assignment by name


def test_other_offices_leads_do_not_exist_here(client, manager, consultant, office, other_office):
    theirs = LeadFactory(office=other_office)
    login(client, manager)
    assert act(client, theirs, act="note", text="peek").status_code == 404
    assert act(client, theirs, act="status", status="contacted").status_code == 404
    assert client.get(f"/admin/leads/lead/board/?office={other_office.pk}").status_code == 404
    client.logout()
    not_mine = LeadFactory(office=office)  # a consultant sees only their own leads
    assert act(login(client, consultant), not_mine, act="note", text="peek").status_code == 404
    assert theirs.activities.count() == 0 and not_mine.activities.count() == 0


def test_actions_are_posts_only(client, manager, office):
    lead = LeadFactory(office=office)
    assert login(client, manager).get(f"/admin/leads/lead/{lead.pk}/act/").status_code == 405


def test_board_and_lead_page_run_a_fixed_number_of_queries(client, manager, office):
    def more():
        for status in ("new", "contacted", "qualified", "applied"):
            LeadFactory(office=office, status=status, assigned_to=ConsultantFactory(office=office))
        LeadFactory(office=office, status="lost", lost_reason="x")

    def count(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    login(client, manager)
    for _ in range(3):
        more()
    lead = Lead.objects.filter(status="new").first()
    client.get(f"/admin/leads/lead/{lead.pk}/change/")  # the process's content type cache filled, as in use
    board, page = count("/admin/leads/lead/board/"), count(f"/admin/leads/lead/{lead.pk}/change/")
    for _ in range(3):
        more()
    assert count("/admin/leads/lead/board/") == board == 8
    assert count(f"/admin/leads/lead/{lead.pk}/change/") == page == 8


# --- the add form: the API's duplicate check, and "create anyway" ---------------------------


def test_adding_a_known_email_warns_like_the_api(client, client_for, receptionist, office):
    existing = LeadFactory(office=office, email="ana@example.com", first_name="Ana", last_name="Known")
    ana = {"first_name": "Ana", "email": "ANA@example.com"}
    api = client_for(receptionist).post("/api/v1/leads", ana, format="json")
    assert api.status_code == 409 and api.json()["error"]["code"] == "duplicate_lead"
    login(client, receptionist)
    warned = client.post("/admin/leads/lead/add/", {**ana, "source": "walk_in"})
    assert warned.status_code == 200 and Lead.objects.count() == 1
    body = warned.content.decode()
    assert 'id="duplicate-warning"' in body and "Ana Known" in body
    assert f"/admin/leads/lead/{existing.pk}/change/" in body
    assert 'value="ANA@example.com"' in body  # what was typed is still there
    created = client.post("/admin/leads/lead/add/", {**ana, "source": "walk_in", "create_anyway": "on"})
    assert created.status_code == 302 and Lead.objects.filter(email="ana@example.com").count() == 2


def test_a_known_phone_warns_too_and_other_offices_do_not_count(client, receptionist, office, other_office):
    LeadFactory(office=other_office, phone="+44 7000 111")
    login(client, receptionist)
    client.post("/admin/leads/lead/add/", {"first_name": "A", "phone": "+44 7000 111", "source": "walk_in"})
    assert Lead.objects.filter(office=office).count() == 1
    warned = client.post("/admin/leads/lead/add/", {"first_name": "B", "phone": "+44 7000 111", "source": "walk_in"})
    assert warned.status_code == 200 and "already exists in this office" in warned.content.decode()
    assert Lead.objects.filter(office=office).count() == 1


def test_editing_into_a_duplicate_warns_but_unchanged_contacts_do_not(client, manager, office):
    LeadFactory(office=office, email="taken@example.com")
    lead = LeadFactory(office=office, email="mine@example.com", phone="+1")
    LeadFactory(office=office, phone="+1")  # an older confirmed duplicate by phone
    login(client, manager)
    fields = {"first_name": lead.first_name, "last_name": lead.last_name, "phone": "+1", "source": "walk_in"}
    renamed = client.post(
        f"/admin/leads/lead/{lead.pk}/change/", {**fields, "email": "mine@example.com", "first_name": "Renamed"}
    )
    assert renamed.status_code == 302
    warned = client.post(f"/admin/leads/lead/{lead.pk}/change/", {**fields, "email": "taken@example.com"})
    assert warned.status_code == 200 and 'id="duplicate-warning"' in warned.content.decode()
    lead.refresh_from_db()
    assert lead.first_name == "Renamed" and lead.email == "mine@example.com"


def test_a_consultant_editing_into_a_lead_they_may_not_see_is_warned_without_its_name(client, consultant, office):
    LeadFactory(office=office, email="hidden@example.com", first_name="Hidden", last_name="Person")
    lead = LeadFactory(office=office, email="mine@example.com", assigned_to=consultant)
    login(client, consultant)
    fields = {"first_name": lead.first_name, "last_name": lead.last_name, "phone": lead.phone, "source": "walk_in"}
    warned = client.post(f"/admin/leads/lead/{lead.pk}/change/", {**fields, "email": "hidden@example.com"})
    body = warned.content.decode()
    assert warned.status_code == 200 and 'id="duplicate-warning"' in body
    assert "Hidden Person" not in body and "already has this email" in body


def test_a_walk_in_from_the_home_goes_on_to_booking(client, receptionist, office):
    login(client, receptionist)
    response = client.post(
        "/admin/leads/lead/add/",
        {"first_name": "Walk", "last_name": "In", "phone": "020 7946 0000", "source": "walk_in", "then": "calendar"},
    )
    lead = Lead.objects.get(first_name="Walk")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/appointments/appointment/calendar/?lead={lead.pk}"
    assert lead.office == office and lead.source == "walk_in"
    walk_in = {"first_name": "Walk", "phone": "020 7946 0000", "source": "walk_in", "then": "calendar"}
    warned = client.post("/admin/leads/lead/add/", walk_in)
    assert 'name="then" value="calendar"' in warned.content.decode()  # kept through the warning


def test_super_admin_picks_the_office_of_a_new_lead(client, super_admin, other_office):
    login(client, super_admin)
    client.post(
        "/admin/leads/lead/add/",
        {"first_name": "Far", "email": "far@example.com", "source": "event", "office": other_office.pk},
    )
    assert Lead.objects.get(first_name="Far").office == other_office
