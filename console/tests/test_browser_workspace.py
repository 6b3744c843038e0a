"""Issue 22 by hand in headless Chromium against a real server process: a receptionist adds a walk-in lead,
routing gives it to the consultant its rule names, and the consultant works it from the student workspace
without leaving it (a task, a proposal, a reply in the conversation, a document reviewed); the manager
follows on their home and the same page. Screenshots per role at 1440 and 390 px in artifacts/
(console-<role>-workspace-desktop.png / -phone.png); no page wider than the phone."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tests.factories import ConsultantFactory, ManagerFactory, ReceptionistFactory, StudentFactory
from catalogue.tests.factories import CourseFactory
from console.tests.browser_kit import (
    as_desktop,
    as_phone,
    by,
    console_browser,
    console_server,
    open_page,
    screenshots,
    sign_in,
    wait,
)
from core.tests.browser import needs_browser
from documents.models import Document, DocumentStatus
from documents.services import document_upload
from followups.models import Task
from leads.models import Lead, LeadRoutingRule
from messaging.models import Message
from messaging.services import conversation_ensure_direct
from offices.tests.factories import OfficeFactory
from proposals.models import Proposal
from students.models import StudentProfile

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

MOMENT = datetime(2031, 3, 13, 10, 0, tzinfo=UTC)  # a Thursday morning in London
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_walk_in_is_worked_from_the_workspace(tmp_path):
    with time_machine.travel(MOMENT, tick=True):
        london = OfficeFactory(name="London", timezone="Europe/London")
        reception = ReceptionistFactory(office=london, first_name="Rita", last_name="Reception")
        carl = ConsultantFactory(office=london, first_name="Carl", last_name="Consultant")
        ConsultantFactory(office=london, first_name="Cora", last_name="Other")
        maya = ManagerFactory(office=london, first_name="Maya", last_name="Manager")
        LeadRoutingRule.objects.create(
            office=london, order=1, name="Walk-ins to Carl", sources=["walk_in"], consultant=carl
        )
        course = CourseFactory(
            university__name="University of Leeds", university__country="GB", name="MSc Data Science"
        )
        with console_server(tmp_path) as base, console_browser(time_zone="Europe/London") as browser:
            # The front desk adds the walk-in; routing names Carl.
            sign_in(browser, base, reception)
            open_page(browser, f"{base}/admin/leads/lead/add/", "#lead_form")
            for name, value in (("first_name", "Amara"), ("last_name", "Okoye"), ("email", "amara@example.com")):
                browser.find_element(*by(f"input[name={name}]")).send_keys(value)
            browser.find_element(*by("select[name=source] option[value=walk_in]")).click()
            browser.find_element(*by("input[name=_save]")).click()
            wait(browser).until(lambda d: d.find_elements(*by("#result_list")))
            lead = Lead.objects.get(email="amara@example.com")
            assert lead.assigned_to == carl
            browser.find_element(*by(f'#result_list a[href^="/admin/console/lead/{lead.pk}/"]')).click()
            wait(browser).until(lambda d: d.find_elements(*by("#workspace")))
            assert "Carl Consultant" in browser.find_element(*by(".workspace-head")).text
            assert screenshots(browser, "receptionist-workspace")["culprits"] == []

            # Amara signs up (her account reaches the lead), writes and sends her passport.
            amara = StudentFactory(office=london, first_name="Amara", last_name="Okoye", email="amara.o@example.com")
            StudentProfile.objects.create(
                student=amara,
                test_scores=[{"test": "ielts", "overall": "8.5", "sections": {}, "taken_on": "2031-01-05"}],
                preferences={"countries": ["GB"], "levels": ["master"], "fields": [], "intake": None},
            )
            Lead.objects.filter(pk=lead.pk).update(student=amara)
            chat = conversation_ensure_direct(user_a=carl, user_b=amara, office=london, lead=lead)
            document_upload(
                actor=amara,
                file=SimpleUploadedFile("p.pdf", PDF),
                kind="passport",
                student=amara,
            )

            # Carl opens the workspace from his home and works the lead without leaving it.
            sign_in(browser, base, carl)
            open_page(browser, f"{base}/admin/console/lead/{lead.pk}/", "#workspace")
            browser.find_element(*by("#workspace-add-task summary")).click()
            browser.find_element(*by("#workspace-add-task input[name=title]")).send_keys("Call about the shortlist")
            browser.find_element(*by("#workspace-add-task input[type=submit]")).click()
            wait(browser).until(lambda d: "Task added." in d.find_element(*by(".messagelist")).text)
            assert Task.objects.filter(title="Call about the shortlist", assignee=carl).exists()

            browser.find_element(*by("#workspace-propose")).click()
            wait(browser).until(lambda d: d.find_elements(*by("#workspace-proposal-form")))
            browser.find_element(*by(f'#workspace-proposal-form input[value^="{course.pk}:"]')).click()
            browser.find_element(*by("#workspace-proposal-form textarea[name=message]")).send_keys("A strong fit")
            browser.find_element(*by("#workspace-proposal-form input[type=submit]")).click()
            wait(browser).until(lambda d: "Proposal of 1 course sent" in d.find_element(*by(".messagelist")).text)
            assert Proposal.objects.get(student=amara).status == "sent"

            wait(browser).until(lambda d: d.find_element(*by("#live-state")).text.strip().lower() == "live")
            reply = browser.find_element(*by("#compose textarea"))
            reply.send_keys("Welcome Amara: your shortlist is in the app.")
            browser.find_element(*by("#compose input[type=submit]")).click()
            wait(browser).until(lambda d: "your shortlist is in the app" in d.find_element(*by("#messages")).text)
            assert Message.objects.filter(conversation=chat, sender=carl).exists()

            browser.find_element(*by(".workspace-review button[value=approved]")).click()
            wait(browser).until(lambda d: "approved" in d.find_element(*by(".messagelist")).text)
            assert Document.objects.get(student=amara).status == DocumentStatus.APPROVED
            wait(browser).until(lambda d: d.find_elements(*by("#workspace")))
            assert screenshots(browser, "consultant-workspace")["culprits"] == []
            # Who this is and how to reach them: beside the work on a desk, before it on a phone.
            assert contact_and_work(browser) == "beside"
            as_phone(browser)
            time.sleep(0.3)
            assert contact_and_work(browser) == "before"
            as_desktop(browser)
            open_page(browser, f"{base}/admin/", "#waiting-on-me")
            assert "Call about the shortlist" not in browser.find_element(*by("#my-tasks")).text  # due tomorrow
            assert "Amara Okoye" in browser.find_element(*by("#proposals-awaiting")).text
            assert screenshots(browser, "consultant-home")["culprits"] == []

            # The manager follows it on the same page.
            sign_in(browser, base, maya)
            open_page(browser, f"{base}/admin/console/student/{amara.pk}/", "#workspace")
            text = browser.find_element(*by("#workspace")).text
            assert "Call about the shortlist" in text and "MSc Data Science" in text and "Approved" in text
            assert screenshots(browser, "manager-workspace")["culprits"] == []


def contact_and_work(browser) -> str:
    """Where the contact card stands against the work panels: "before" (above them), "beside" or "after"."""
    contact, work = browser.execute_script(
        "return ['.workspace-contact', '.workspace-main'].map((s) => {"
        " const r = document.querySelector(s).getBoundingClientRect(); return [r.top, r.left]; })"
    )
    if contact[1] > work[1]:
        return "beside"
    return "before" if contact[0] < work[0] else "after"
