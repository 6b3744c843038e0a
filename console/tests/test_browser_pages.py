"""Every console page of every staff role, in headless Chromium: no horizontal scroll on a 390 px phone,
no serious or critical axe-core violation, and desktop and phone screenshots in artifacts/
(console-<role>-<page>-desktop.png and -phone.png) to look at."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import (
    ConsultantFactory,
    ManagerFactory,
    ReceptionistFactory,
    StudentFactory,
    SuperAdminFactory,
)
from appointments.models import Appointment
from console.tests.browser_kit import (
    ARTIFACTS,
    axe_violations,
    by,
    console_browser,
    console_server,
    open_page,
    screenshots,
    sign_in,
    wait,
)
from core.tests.browser import needs_browser
from documents.services import document_upload
from leads.tests.factories import LeadFactory
from messaging.services import conversation_ensure_direct
from messaging.tests.factories import send
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

# A Thursday morning in London (and evening in Sydney).
MOMENT = datetime(2031, 3, 13, 10, 0, tzinfo=UTC)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00"
    b"\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def a_working_office():
    """London with one person per role, leads in every stage, an appointment today, a conversation
    waiting for a reply and a document to review; and Sydney, for the super admin."""
    london = OfficeFactory(name="London", timezone="Europe/London")
    sydney = OfficeFactory(name="Sydney", timezone="Australia/Sydney")
    people = {
        "super_admin": SuperAdminFactory(first_name="Ada", last_name="Admin"),
        "manager": ManagerFactory(office=london, first_name="Maya", last_name="Manager"),
        "consultant": ConsultantFactory(office=london, first_name="Carl", last_name="Consultant"),
        "receptionist": ReceptionistFactory(office=london, first_name="Rita", last_name="Reception"),
    }
    ConsultantFactory(office=sydney, first_name="Sid", last_name="Sydney")
    consultant = people["consultant"]
    student = StudentFactory(office=london, first_name="Sam", last_name="Student")
    lead = LeadFactory(office=london, assigned_to=consultant, student=student, status="qualified", first_name="Sam")
    for status in ("new", "contacted", "applied"):
        LeadFactory(office=london, status=status, assigned_to=consultant if status != "new" else None)
    LeadFactory(office=london, status="lost", lost_reason="Chose another agency")
    start = MOMENT.replace(hour=14)
    Appointment.objects.create(
        office=london,
        consultant=consultant,
        lead=lead,
        student=student,
        title="Application review",
        start=start,
        end=start + timedelta(minutes=45),
    )
    chat = conversation_ensure_direct(user_a=consultant, user_b=student, office=london, lead=lead)
    send(student, chat, "Hello, is my offer letter in?")
    send(consultant, chat, "Not yet, I will chase the university today.")
    send(student, chat, "Thank you!")
    document_upload(actor=student, file=SimpleUploadedFile("passport.png", PNG), kind="passport", student=student)
    return london, people, lead, chat


def pages_of(role: str, *, lead, chat, office) -> dict[str, str]:
    """The console's pages as this role reaches them (navigation, records, the lead and conversation)."""
    pages = {
        "home": "/admin/",
        "inbox": "/admin/messaging/conversation/",
        "board": "/admin/leads/lead/board/",
        "leads": "/admin/leads/lead/",
        "calendar": "/admin/appointments/appointment/calendar/",
        "appointments": "/admin/appointments/appointment/",
    }
    if role in ("consultant",):
        pages["conversation"] = f"/admin/messaging/conversation/{chat.pk}/change/"
    if role != "receptionist":
        pages["lead"] = f"/admin/leads/lead/{lead.pk}/change/"
        pages["review"] = "/admin/documents/document/review/"
    else:
        pages["add-lead"] = "/admin/leads/lead/add/"
    if role in ("manager", "super_admin"):
        pages |= {
            "reports": "/admin/reports/",
            "monitor": "/admin/monitor/",
            "monitor-conversation": f"/admin/monitor/{chat.pk}/",
            "office": f"/admin/offices/office/{office.pk}/change/",
            "users": "/admin/accounts/user/",
        }
    return pages


@pytest.mark.parametrize("role", ["manager", "consultant", "receptionist", "super_admin"])
def test_every_page_fits_a_phone_and_passes_axe(role, tmp_path):
    """Per page: the phone overflow in px and the serious/critical axe violations (elements per rule),
    also written to artifacts/console-pages-<role>.json (the figures of the closing note)."""
    with time_machine.travel(MOMENT, tick=True):
        office, people, lead, chat = a_working_office()
        report: dict[str, dict] = {}
        with console_server(tmp_path) as base, console_browser() as browser:
            sign_in(browser, base, people[role])
            for name, path in pages_of(role, lead=lead, chat=chat, office=office).items():
                open_page(browser, f"{base}{path}")
                if name == "calendar":
                    wait(browser).until(lambda d: d.find_elements(*by("body[data-calendar-ready]")))
                overflow = screenshots(browser, f"{role}-{name}")
                violations = axe_violations(browser)
                report[name] = {
                    "overflow_px": max(overflow["page"] - overflow["viewport"], 0),
                    "wider": overflow["culprits"],
                    "axe": {v["id"]: v["count"] for v in violations},
                    "axe_nodes": {v["id"]: v["nodes"] for v in violations},
                }
        (ARTIFACTS / f"console-pages-{role}.json").write_text(json.dumps(report, indent=1))
    too_wide = {name: page["overflow_px"] for name, page in report.items() if page["overflow_px"]}
    failing = {name: page["axe"] for name, page in report.items() if page["axe"]}
    assert too_wide == {}, report
    assert failing == {}, report
