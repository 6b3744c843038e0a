"""The staff console pages: dashboard and live monitor, scoped like the API."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from accounts.tests.factories import PASSWORD
from appointments.models import Appointment
from leads.models import Lead
from leads.tests.factories import LeadFactory
from messaging.models import MonitoringAudit
from messaging.tests.factories import make_conversation, send

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_dashboard_shows_the_managers_office_figures(client, manager, office, other_office, consultant):
    LeadFactory.create_batch(3, office=office)
    LeadFactory.create_batch(5, office=other_office)
    page = login(client, manager).get("/admin/reports/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "vendor/chartjs/chart.umd.min.js" in body and "chart-funnel" in body
    assert page.context["figures"]["leads"]["total"] == 3


def test_dashboard_is_for_managers_and_super_admins(client, consultant, super_admin):
    assert login(client, consultant).get("/admin/reports/").status_code == 403
    client.logout()
    assert login(client, super_admin).get("/admin/reports/?office=999999").status_code == 404


def test_monitor_lists_office_conversations_and_audits_reads(
    client, manager, other_manager, office, consultant, receptionist
):
    chat = make_conversation(consultant, receptionist, office=office, title="Desk talk")
    send(consultant, chat, "<b>not html</b>")
    listing = login(client, manager).get("/admin/monitor/")
    assert "Desk talk" in listing.content.decode()
    detail = client.get(f"/admin/monitor/{chat.id}/")
    assert detail.status_code == 200 and detail.context["history"][0]["content"] == "<b>not html</b>"
    assert "<b>not html</b>" not in detail.content.decode()  # history travels as escaped JSON
    assert MonitoringAudit.objects.filter(actor=manager, conversation=chat, action="monitor_read").exists()
    client.logout()
    assert login(client, other_manager).get(f"/admin/monitor/{chat.id}/").status_code == 404


def test_consultants_cannot_monitor(client, consultant):
    assert login(client, consultant).get("/admin/monitor/").status_code == 403


def test_the_default_range_counts_booked_appointments(client, manager, office, consultant):
    start = timezone.now() + timedelta(days=7)
    Appointment.objects.create(
        office=office,
        consultant=consultant,
        lead=LeadFactory(office=office),
        title="Ahead",
        start=start,
        end=start + timedelta(minutes=30),
    )
    page = login(client, manager).get("/admin/reports/")
    assert page.context["figures"]["appointments"]["total"] == 1
    assert page.context["scope"].date_to > timezone.now().date()


def test_charts_are_labelled_with_names_and_zero_is_zero(client, manager, office, consultant):
    LeadFactory(office=office, assigned_to=consultant, status="contacted")
    page = login(client, manager).get("/admin/reports/")
    data = page.context["chart_data"]
    assert data["consultants"]["consultants"][0]["consultant_name"] == consultant.full_name
    assert data["labels"]["source"]["walk_in"] == "Walk-in" and data["labels"]["appointment"]["no_show"] == "No show"
    body = page.content.decode()
    assert "legend: {display: true" in body and "precision: 0" in body and "beginAtZero: true" in body
    assert "average time to convert <strong>– h" in body  # nothing measured yet: a dash

    converted = LeadFactory(office=office, status="converted")
    Lead.objects.filter(pk=converted.pk).update(converted_at=F("created_at"))  # converted at once: 0 hours
    assert "average time to convert <strong>0.0 h" in client.get("/admin/reports/").content.decode()


def test_every_csv_link_of_the_dashboard_downloads_on_the_console_session(client, manager, office, other_office):
    """The links a manager clicks answer the CSV on their session (the bearer-only API answered 401),
    with the API's numbers over the dashboard's range and office."""
    LeadFactory.create_batch(2, office=office)
    LeadFactory.create_batch(4, office=other_office)
    page = login(client, manager).get("/admin/reports/?date_from=2020-01-01&date_to=2020-12-31")
    links = re.findall(r'<a href="([^"]+\.csv\?[^"]+)" download>(\w+)</a>', page.content.decode())
    assert [label for _, label in links] == [
        "Leads",
        "Appointments",
        "Consultants",
        "Messages",
        "Activity",
        "Applications",
    ]
    for href, _label in links:
        download = client.get(href.replace("&amp;", "&"))
        assert download.status_code == 200 and download["Content-Type"].startswith("text/csv"), href
        assert "2020-01-01-2020-12-31.csv" in download["Content-Disposition"]
    leads = client.get("/admin/reports/leads.csv")  # the default range: the last 30 days and the next 30
    rows = list(csv.reader(io.StringIO(leads.content.decode())))
    assert rows[0] == ["section", "key", "field", "value"] and ["total", "", "", "2"] in rows


def test_csv_exports_follow_the_report_rules(client, manager, consultant, super_admin, other_office):
    assert login(client, manager).get(f"/admin/reports/leads.csv?office={other_office.pk}").status_code == 404
    assert client.get(f"/admin/reports/applications.csv?office={other_office.pk}").status_code == 404
    assert client.get("/admin/reports/secrets.csv").status_code == 404
    client.logout()
    assert login(client, consultant).get("/admin/reports/leads.csv").status_code == 403
    assert client.get("/admin/reports/applications.csv").status_code == 403
    client.logout()
    assert client.get("/admin/reports/leads.csv").status_code == 302  # to the sign-in page
    assert login(client, super_admin).get(f"/admin/reports/leads.csv?office={other_office.pk}").status_code == 200
