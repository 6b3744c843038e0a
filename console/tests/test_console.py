"""The console's frame and home: a home per role from the apps' selectors, office scope, no third-party
clutter, the page token for the REST API, the styled 403, and a fixed number of queries per home."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import password_change, user_deactivate
from accounts.tests.factories import PASSWORD, ConsultantFactory, StudentFactory
from applications.models import Application
from applications.tests.factories import approved_document
from applications.transitions import ApplicationStatus
from appointments.models import Appointment
from catalogue.tests.factories import CourseFactory
from documents.models import DocumentStatus
from followups.models import Task
from leads.services import lead_add_note
from leads.tests.factories import LeadFactory
from messaging.tests.factories import make_conversation, send
from offices.tests.factories import OfficeFactory
from proposals.models import Proposal, ProposalItem
from proposals.states import ProposalStatus

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def today_at(office, hour):
    local = timezone.now().astimezone(office.tzinfo).replace(hour=hour, minute=0, second=0, microsecond=0)
    return local


def book(office, consultant, *, lead=None, student=None, start, title="Review"):
    return Appointment.objects.create(
        office=office,
        consultant=consultant,
        lead=lead,
        student=student,
        title=title,
        start=start,
        end=start + timedelta(minutes=30),
    )


def waiting_conversation(consultant, office, text="Anyone there?"):
    student = StudentFactory(office=office)
    chat = make_conversation(consultant, student, office=office)
    send(student, chat, text)
    return chat


def test_manager_home_answers_the_day(client, manager, office, other_office, consultant):
    unassigned = LeadFactory(office=office, first_name="Waiting", last_name="Walker")
    LeadFactory(office=office, assigned_to=consultant, status="contacted")
    LeadFactory(office=other_office, first_name="Elsewhere")
    book(office, consultant, lead=unassigned, start=today_at(office, 23) - timedelta(minutes=30))
    waiting_conversation(consultant, office, "Is my visa letter ready?")
    page = login(client, manager).get("/admin/")
    home = page.context["home"]
    assert home["appointments_today"] == 1 and home["unassigned"] == 1 and home["waiting_count"] == 1
    assert [lead.first_name for lead in home["unassigned_leads"]] == ["Waiting"]
    assert {s: n for s, _, n in home["pipeline"]}["contacted"] == 1
    assert [(c.full_name, c.unread) for c in home["consultants"]] == [(consultant.full_name, 1)]
    body = page.content.decode()
    assert "Is my visa letter ready?" in body and "Waiting Walker" in body and "Elsewhere" not in body
    assert consultant.full_name in body and consultant.email not in body  # names, not emails


def test_waiting_means_a_student_spoke_last_and_the_longest_wait_comes_first(client, manager, office, consultant):
    first = waiting_conversation(consultant, office, "first question")
    second = waiting_conversation(consultant, office, "second question")
    answered = waiting_conversation(consultant, office, "answered question")
    send(consultant, answered, "Here is the answer")
    home = login(client, manager).get("/admin/").context["home"]
    assert [row["conversation"].pk for row in home["waiting"]] == [first.pk, second.pk]
    # the manager is not in them: the link is the audited monitor, not an inbox they cannot open
    assert home["waiting"][0]["url"] == f"/admin/monitor/{first.pk}/"


def test_consultant_home_shows_my_day_only(client, consultant, office, student):
    other = ConsultantFactory(office=office)
    mine = LeadFactory(office=office, assigned_to=consultant, first_name="Mine")
    LeadFactory(office=office, assigned_to=other, first_name="Theirs")
    book(office, consultant, lead=mine, start=today_at(office, 23) - timedelta(minutes=30))
    book(office, other, student=student, start=today_at(office, 23) - timedelta(minutes=30))
    chat = make_conversation(consultant, student, office=office)
    send(student, chat, "hello?")
    home = login(client, consultant).get("/admin/").context["home"]
    assert home["appointments_today"] == 1
    assert [lead.first_name for lead in home["leads"]] == ["Mine"]
    assert home["inbox"]["unread"] == 1 and home["inbox"]["rows"][0]["waiting"] is True


def test_receptionist_home_has_arrivals_walk_in_and_quick_booking(client, receptionist, consultant, office):
    lead = LeadFactory(office=office, first_name="Arriving")
    book(office, consultant, lead=lead, start=today_at(office, 23) - timedelta(minutes=30))
    page = login(client, receptionist).get("/admin/")
    home = page.context["home"]
    assert home["appointments_today"] == 1
    assert [row["consultant"].pk for row in home["booking"]] == [consultant.pk]
    body = page.content.decode()
    assert 'id="walk-in-form"' in body and 'action="/admin/leads/lead/add/"' in body


def test_a_manager_cannot_look_at_another_office(client, manager, other_office):
    assert login(client, manager).get(f"/admin/?office={other_office.pk}").status_code == 404
    assert client.get("/admin/?office=not-a-number").status_code == 404


def test_super_admin_switches_office(client, super_admin, office, other_office):
    LeadFactory(office=office, first_name="Here")
    LeadFactory(office=other_office, first_name="There")
    login(client, super_admin)
    everywhere = client.get("/admin/").context["home"]
    assert {lead.first_name for lead in everywhere["unassigned_leads"]} == {"Here", "There"}
    assert [o.name for o in everywhere["offices"]] == ["London", "Manchester"]
    one = client.get(f"/admin/?office={other_office.pk}").context["home"]
    assert [lead.first_name for lead in one["unassigned_leads"]] == ["There"]
    assert client.get("/admin/?office=999999").status_code == 404


def test_home_has_no_third_party_clutter_and_no_view_site(client, super_admin):
    body = login(client, super_admin).get("/admin/").content.decode()
    for clutter in ("Social accounts", "Sites", "Token blacklist", "Groups", "Email addresses", "View site"):
        assert clutter not in body, clutter
    assert body.count(">Accounts<") == 1
    assert client.get("/admin/auth/group/").status_code == 404
    assert 'rel="icon"' in body and "console/favicon.svg" in body


def test_navigation_follows_the_role(client, actors):
    expected = {
        "super_admin": [
            "Today",
            "Inbox",
            "Lead board",
            "Calendar",
            "Document review",
            "Applications",
            "Catalogue",
            "Reports",
            "Live monitor",
            "Notifications",
        ],
        "manager": [
            "Today",
            "Inbox",
            "Lead board",
            "Calendar",
            "Document review",
            "Applications",
            "Catalogue",
            "Reports",
            "Live monitor",
            "Notifications",
        ],
        "consultant": [
            "Today",
            "Inbox",
            "Lead board",
            "Calendar",
            "Document review",
            "Applications",
            "Catalogue",
            "Notifications",
        ],
        "receptionist": ["Today", "Inbox", "Lead board", "Calendar", "Catalogue", "Notifications"],
    }
    for role, labels in expected.items():
        client = login(Client(), actors[role])
        assert [link["label"] for link in client.get("/admin/").context["console_navigation"]] == labels, role


@pytest.fixture(params=[datetime(2031, 3, 11, 10, 0, tzinfo=UTC), datetime(2031, 3, 14, 20, 0, tzinfo=UTC)])
def at_a_moment(request):
    """A Tuesday morning (the office open) and a Friday evening (closed until Monday): the same queries."""
    with time_machine.travel(request.param, tick=False):
        yield


def waiting_on(user, consultant, office):
    """One of each thing issue 22 puts on a home: tasks overdue and due today, an application with a document
    to review, one submitted, a deposit due, a proposal awaiting the student."""
    student = StudentFactory(office=office)
    lead = LeadFactory(office=office, student=student, assigned_to=consultant)
    now = timezone.now()
    for due in (now - timedelta(hours=1), now + timedelta(minutes=1)):
        Task.objects.create(title="Call", due_at=due, assignee=user, lead=lead, office=office)
    course = CourseFactory(university__country="GB")
    statuses = [ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED, ApplicationStatus.OFFER_ACCEPTED]
    for n, status in enumerate(statuses):
        Application.objects.create(
            student=student, course=course, intake=date(2032, 1 + n, 1), consultant=consultant, office=office,
            destination="GB", status=status, deposit_due=timezone.localdate() if n == 2 else None,
        )  # fmt: skip
    approved_document(student, "passport", reviewer=None, status=DocumentStatus.PENDING)
    proposal = Proposal.objects.create(
        student=student, consultant=consultant, office=office, status=ProposalStatus.SENT, sent_at=now,
        expires_at=now + timedelta(days=7),
    )  # fmt: skip
    ProposalItem.objects.create(proposal=proposal, course=course, intake=date(2032, 9, 1), tuition=1, currency="GBP")


def test_each_home_shows_what_waits_on_me(client, consultant, office, time_machine):
    time_machine.move_to(datetime(2031, 3, 11, 10, 0, tzinfo=UTC), tick=False)  # a task due in a minute is today's
    waiting_on(consultant, consultant, office)
    around = login(client, consultant).get("/admin/").context["around"]
    assert len(around["overdue"]) == 1 and len(around["due_today"]) == 1
    assert (around["reviews_count"], around["offers_count"], around["deposits_count"], around["proposals_count"]) == (
        1, 1, 1, 1,
    )  # fmt: skip


def test_due_today_is_the_offices_day(client, consultant, office, time_machine):
    """At 23:30 in the office's zone a task due at 00:30 is tomorrow's, whatever UTC says."""
    office.timezone = "Australia/Sydney"
    office.save()
    time_machine.move_to(datetime(2026, 12, 6, 23, 30, tzinfo=office.tzinfo), tick=False)
    lead = LeadFactory(office=office, assigned_to=consultant)
    for title, hours in (("tonight", 0.25), ("tomorrow", 1)):
        Task.objects.create(title=title, due_at=timezone.now() + timedelta(hours=hours), assignee=consultant, lead=lead)
    around = login(client, consultant).get("/admin/").context["around"]
    assert [t.title for t in around["due_today"]] == ["tonight"]


@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist"])
def test_each_home_runs_a_fixed_number_of_queries(at_a_moment, client, actors, office, consultant, role):
    # (+ issue 22's rows: my tasks overdue and due today, documents to review, offers, deposits, proposals)
    expected = {"super_admin": 18, "manager": 20, "consultant": 19, "receptionist": 15}

    def more():
        waiting_on(actors[role], consultant, office)
        lead = LeadFactory(office=office)
        LeadFactory(office=office, assigned_to=consultant)
        earlier = timedelta(minutes=30 * Appointment.objects.count() + 30)
        book(office, consultant, lead=lead, start=today_at(office, 23) - earlier)
        chat = waiting_conversation(consultant, office)
        if role == "consultant":
            send(consultant, chat, "hi")
        else:
            make_conversation(actors[role], consultant, office=office)

    login(client, actors[role])
    for _ in range(3):
        more()
    three = queries(client, "/admin/")
    for _ in range(3):
        more()
    assert queries(client, "/admin/") == three == expected[role]


def test_console_token_is_minted_for_a_staff_session_with_csrf(manager):
    browser = Client(enforce_csrf_checks=True)
    login(browser, manager)
    assert browser.get("/admin/console/token").status_code == 405
    assert browser.post("/admin/console/token").status_code == 403  # no CSRF token
    browser.get("/admin/")
    csrf = browser.cookies["csrftoken"].value
    minted = browser.post("/admin/console/token", HTTP_X_CSRFTOKEN=csrf)
    assert minted.status_code == 200 and "no-store" in minted["Cache-Control"]
    body = minted.json()
    assert body["expires_in"] == 300 and "refresh" not in body
    me = Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert me.status_code == 200 and me.json()["id"] == manager.pk

    lifetime = AccessToken(body["access"])["exp"] - timezone.now().timestamp()
    assert 280 < lifetime <= 300


def test_console_token_is_not_for_students_or_strangers(office):
    student = StudentFactory(office=office)
    browser = Client()
    assert browser.post("/admin/console/token").status_code == 302  # to the login page
    login(browser, student)
    assert browser.post("/admin/console/token").status_code == 302


def test_refusals_are_a_styled_console_page(client, consultant):
    page = login(client, consultant).get("/admin/reports/")
    assert page.status_code == 403
    body = page.content.decode()
    assert "Reports are for managers and super admins." in body and "Back to your day" in body
    assert "console/console.css" in body


def test_console_times_are_in_the_office_time_zone(client, office, consultant):
    office.timezone = "Australia/Sydney"
    office.save()
    lead = LeadFactory(office=office, assigned_to=consultant)
    note = lead_add_note(actor=consultant, lead=lead, text="Called")
    type(note).objects.filter(pk=note.pk).update(created_at="2030-01-01T00:00:00+00:00")
    body = login(client, consultant).get(f"/admin/leads/lead/{lead.pk}/change/").content.decode()
    assert "1 Jan 2030, 11:00" in body  # Sydney is UTC+11 in January


def test_a_console_token_ends_with_deactivation_or_a_password_change(manager, office):
    def mint(user):
        browser = login(Client(), user)
        return browser.post("/admin/console/token").json()["access"]

    def me(token):
        return Client().get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code

    token = mint(manager)
    password_change(user=manager, old_password=PASSWORD, new_password="Another-Horse-43")
    assert me(token) == 401
    colleague = ConsultantFactory(office=office)
    token = mint(colleague)
    assert me(token) == 200
    user_deactivate(actor=manager, user=colleague)
    assert me(token) == 401


def test_appointments_today_counts_each_offices_own_today(client, super_admin):
    """Friday 22:00 in London is already Saturday 09:00 in Sydney: Sydney's Saturday is today, London's
    and Toronto's Saturdays are tomorrow."""
    london = OfficeFactory(name="London", timezone="Europe/London")
    toronto = OfficeFactory(name="Toronto", timezone="America/Toronto")
    sydney = OfficeFactory(name="Sydney", timezone="Australia/Sydney")
    with time_machine.travel(datetime(2031, 3, 14, 22, 0, tzinfo=UTC), tick=False):
        for office, day, hour in ((london, 14, 23), (london, 15, 10), (toronto, 15, 10), (sydney, 15, 10)):
            local = datetime(2031, 3, day, hour, 0, tzinfo=office.tzinfo)
            book(office, ConsultantFactory(office=office), lead=LeadFactory(office=office), start=local)
        login(client, super_admin)
        assert client.get("/admin/").context["home"]["appointments_today"] == 2  # London's Friday, Sydney's Saturday
        assert client.get(f"/admin/?office={london.pk}").context["home"]["appointments_today"] == 1
        assert client.get(f"/admin/?office={toronto.pk}").context["home"]["appointments_today"] == 0
        assert client.get(f"/admin/?office={sydney.pk}").context["home"]["appointments_today"] == 1


def test_the_office_a_super_admin_chose_stays_chosen_on_the_other_pages(client, super_admin, office, other_office):
    LeadFactory(office=office, first_name="Here")
    LeadFactory(office=other_office, first_name="There")
    login(client, super_admin)
    client.get(f"/admin/?office={other_office.pk}")
    board = client.get("/admin/leads/lead/board/")  # from the navigation: no ?office=
    assert board.context["office"] == other_office
    assert "There" in board.content.decode() and "Here" not in board.content.decode()
    assert client.get("/admin/appointments/appointment/calendar/").context["office"] == other_office
    assert client.get("/admin/").context["home"]["office"] == other_office
    client.get("/admin/?office=")  # every office again
    assert client.get("/admin/leads/lead/board/").context["office"] is None
    closing = OfficeFactory(name="Leeds")
    client.get(f"/admin/?office={closing.pk}")
    closing.delete()  # gone since: forgotten, not a 404 on every page
    assert client.get("/admin/leads/lead/board/").status_code == 200
