"""The journey by hand in the console, in headless Chromium against a real daphne process: the manager
imports the catalogue from the browser and searches it, opens two applications from the board, approves
the student's documents in the review queue, moves one application to enrolment and the other to a refused
visa with the reason asked for, and reads the report; the student's own socket hears every move.
Screenshots at 1440 and 390 px wide: artifacts/applications-<step>-<width>.png."""

import time
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from websockets.sync.client import connect as ws_connect

from accounts.models import User
from accounts.tests.factories import ConsultantFactory, ManagerFactory
from applications.models import Application
from catalogue.models import Course
from console.tests.browser_kit import by, replaced, wait
from documents.models import Document
from documents.services import document_upload
from leads.services import lead_assign, lead_convert
from leads.tests.factories import LeadFactory
from offices.tests.factories import OfficeFactory
from reports.tests.test_console_browser import ARTIFACTS, StudentSocket, sign_in, text_in

pytestmark = [pytest.mark.django_db(transaction=True)]
REAL_CLOCK = True  # the server runs on the machine's clock (conftest's travelled one stays out)
SAMPLE = Path(__file__).resolve().parents[2] / "catalogue" / "data" / "sample_catalogue.csv"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
CHECKLIST = [
    "passport",
    "transcript",
    "test_score",
    "statement_of_purpose",
    "recommendation",
    "recommendation",
    "cv",
    "financial",
]


def shots(browser, name):
    """The whole page at 1440 and at 390 px wide (a phone), back to the test's size after."""
    for width in (1440, 390):
        browser.set_window_size(width, 1000)
        time.sleep(0.2)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        # (the window's size includes what headless Chromium keeps around the page: a margin for it)
        browser.set_window_size(width, min(max(height + 240, 800), 4500))
        time.sleep(0.3)
        browser.save_screenshot(str(ARTIFACTS / f"applications-{name}-{width}.png"))
    browser.set_window_size(1400, 1000)


def choose(browser, css, text):
    select = Select(browser.find_element(*by(css)))
    option = next(o for o in select.options if text in o.text)
    select.select_by_visible_text(option.text)


def move(browser, application_id, label, *, reason=None, conditions=None):
    card = browser.find_element(*by(f"#application-{application_id}"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", card)
    if reason is None and conditions is None:
        card.find_element(By.XPATH, f".//button[normalize-space()='{label}']").click()
    else:
        details = card.find_element(By.XPATH, f".//details[summary[starts-with(normalize-space(), '{label}')]]")
        details.find_element(By.TAG_NAME, "summary").click()
        if conditions:
            details.find_element(*by("input[name=conditions]")).send_keys(conditions)
        details.find_element(*by("input[name=note]")).send_keys(reason or "")
        details.find_element(*by("input[type=submit]")).click()
    # The page it was on still shows the last move's message: wait for the new page first.
    wait(browser).until(replaced(card))
    wait(browser).until(text_in(".messagelist", "application moved to"))


def test_the_journey_by_hand_in_the_console(browser, server):
    office = OfficeFactory(name="Leeds office")
    manager = ManagerFactory(office=office, first_name="Maya", last_name="Manager")
    consultant = ConsultantFactory(office=office, first_name="Carl", last_name="Consultant")
    next_year = timezone.localdate().year + 1
    # The student signs up and fills their profile in their own app (REST), and the office converts the lead.
    signed_up = requests.post(
        f"{server.base}/api/v1/auth/signup",
        json={"email": "sam@example.com", "password": "Sam-Student-2027", "first_name": "Sam", "last_name": "Lee"},
        timeout=15,
    ).json()
    headers = {"Authorization": f"Bearer {signed_up['access']}"}
    requests.patch(
        f"{server.base}/api/v1/auth/me/profile",
        json={
            "test_scores": [{"test": "ielts", "overall": "7.0", "taken_on": f"{next_year - 2}-06-01"}],
            "education": [
                {
                    "level": "bachelor",
                    "institution": "Pune University",
                    "country": "IN",
                    "grade": "8.0",
                    "scale": "10",
                    "year": next_year - 2,
                }
            ],
            "preferences": {"countries": ["GB"], "levels": ["master"], "intake": f"{next_year}-09"},
        },
        headers=headers,
        timeout=15,
    ).raise_for_status()
    student = User.objects.get(email="sam@example.com")
    lead = LeadFactory(office=None, student=student, email=student.email, first_name="Sam", last_name="Lee")
    lead = lead_assign(actor=manager, lead=lead, consultant=consultant)
    lead_convert(actor=consultant, lead=lead)
    student.refresh_from_db()  # now in the office
    for kind in CHECKLIST:
        document_upload(actor=student, file=SimpleUploadedFile(f"{kind}.pdf", PDF), kind=kind, student=student)
    student_socket = StudentSocket.__new__(StudentSocket)  # the student's app, with the token signup gave it
    student_socket.ws, student_socket.seen = (
        ws_connect(f"ws://127.0.0.1:{server.port}/ws/?token={signed_up['access']}"),
        [],
    )
    ARTIFACTS.mkdir(exist_ok=True)

    sign_in(browser, server, manager)
    # 1. The catalogue, imported from the browser with its report, then searched.
    browser.get(f"{server.base}/admin/catalogue/university/import/")
    browser.find_element(*by("#catalogue-import input[type=file]")).send_keys(str(SAMPLE))
    browser.find_element(*by("#catalogue-import input[type=submit]")).click()
    wait(browser, 60).until(text_in("#import-report", "imported"))
    shots(browser, "import")
    browser.get(f"{server.base}/admin/catalogue/course/?q=data+science&university_country=GB")
    assert "MSc Data Science" in browser.find_element(*by("#result_list")).text
    shots(browser, "catalogue")

    # 2. Two applications opened from the board (two UK master's starting in September, from the import).
    courses = Course.objects.filter(
        university__country="GB", level="master", intakes__contains=[9], min_ielts__lte=7, min_gpa__lte=3.2
    ).order_by("id")
    for course in courses[:2]:
        browser.get(f"{server.base}/admin/applications/application/board/")
        opener = browser.find_element(*by("#application-open"))
        if not opener.get_attribute("open"):
            opener.find_element(By.TAG_NAME, "summary").click()
        browser.find_element(*by("#open-search input[name=open_q]")).send_keys("Sam")
        browser.find_element(*by("#open-search input[type=submit]")).click()
        wait(browser).until(lambda d: d.find_elements(*by("#open-for select[name=open_for]")))  # (the page reloads)
        choose(browser, "#open-for select[name=open_for]", "Sam Lee")
        browser.find_element(*by("#open-for input[type=submit]")).click()  # the courses Sam is eligible for
        wait(browser).until(lambda d: d.find_elements(*by("#open-form")))
        Select(browser.find_element(*by("#open-form select[name=course]"))).select_by_value(str(course.pk))
        browser.execute_script(
            "document.querySelector('#open-form input[name=intake]').value = arguments[0]", f"{next_year}-09"
        )
        browser.find_element(*by("#open-form input[type=submit]")).click()
        wait(browser).until(text_in(".messagelist", "Application opened for Sam Lee"))
    first, second = Application.objects.order_by("id")
    assert student_socket.next("application_updated", where=lambda d: d["id"] == second.pk)["status"] == "draft"

    # 3. The checklist waits for reviews: the page says so, then the manager approves in the review queue.
    browser.get(f"{server.base}/admin/applications/application/{first.pk}/change/")
    assert browser.find_element(*by("#checklist-progress")).text == "0%"
    shots(browser, "application-draft")
    browser.get(f"{server.base}/admin/documents/document/review/")
    for document in Document.objects.filter(student=student).order_by("id"):
        item = wait(browser).until(lambda d, pk=document.pk: d.find_element(*by(f"#document-{pk}")))
        button = item.find_element(*by("button[value=approved]"))
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
        wait(browser).until(lambda d, pk=document.pk: not d.find_elements(*by(f"#document-{pk}")))
    browser.get(f"{server.base}/admin/applications/application/{first.pk}/change/")
    assert browser.find_element(*by("#checklist-progress")).text == "100%"

    # 4. The moves, on the board: one to enrolment, one to a refused visa (the reason asked for).
    board = f"{server.base}/admin/applications/application/board/"
    browser.get(board)
    move(browser, first.pk, "Submit")
    move(browser, first.pk, "Conditional offer", conditions="Final transcript", reason="Offer received")
    for label in (
        "Unconditional offer",
        "Offer accepted",
        "Deposit paid",
        "Confirmation issued",
        "Visa applied",
        "Visa granted",
        "Enrolled",
    ):
        move(browser, first.pk, label)
    for label in (
        "Submit",
        "Unconditional offer",
        "Offer accepted",
        "Deposit paid",
        "Confirmation issued",
        "Visa applied",
    ):
        move(browser, second.pk, label)
    shots(browser, "board")
    move(browser, second.pk, "Visa refused", reason="Financial evidence insufficient")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("enrolled", "visa_refused")
    assert student_socket.next("application_updated", where=lambda d: d["status"] == "visa_refused")["id"] == second.pk
    browser.get(f"{server.base}/admin/applications/application/{second.pk}/change/")
    assert "Financial evidence insufficient" in browser.find_element(*by("#history")).text
    shots(browser, "application-refused")

    # 5. The report counts them, with its chart.
    browser.get(f"{server.base}/admin/reports/")
    wait(browser).until(lambda d: d.find_element(*by("body")).get_attribute("data-charts-rendered") == "7")
    assert browser.find_element(*by("#summary-applications")).text == "2"
    shots(browser, "reports")
