"""The console end to end in headless Chromium against real server processes (the production kind), one
test per staff role going through their day. Screenshots go to artifacts/ (console-<role>-<step>.png)."""

import io
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select
from websockets.sync.client import connect as ws_connect

from accounts.tests.factories import (
    PASSWORD,
    ConsultantFactory,
    ManagerFactory,
    ReceptionistFactory,
    StudentFactory,
    SuperAdminFactory,
)
from appointments.models import Appointment
from appointments.services import appointment_book
from conftest import access_token_for
from console.tests.browser_kit import by, wait
from core.tests.clock import travel_browser
from core.tests.live_server import ROOT, free_port, server_command, server_env
from documents.models import Document
from documents.services import document_upload
from leads.models import Lead
from leads.tests.factories import LeadFactory
from messaging.models import Message
from messaging.services import conversation_ensure_direct
from messaging.tests.factories import make_conversation, send
from offices.tests.factories import OfficeFactory

ARTIFACTS = ROOT / "artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # In CI the browser must be there (.ci/install-browser): a missing one fails instead of skipping.
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"),
        reason="Debian's chromium and chromium-driver are not installed (.ci/install-browser)",
    ),
]


class Server:
    """One server on a fixed port, which a test may restart: pages must reconnect by themselves."""

    def __init__(self, log_dir):
        self.port, self.log_dir, self.process, self.runs = free_port(), log_dir, None, 0
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        self.runs += 1
        with open(self.log_dir / f"server-{self.runs}.log", "w") as log:  # the server writes to its own copy
            self.process = subprocess.Popen(
                server_command(self.port),  # the production server unless LIVE_SERVER says otherwise
                cwd=ROOT,
                env=server_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/health", timeout=2)
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from exc
                time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path):
    running = Server(tmp_path)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def browser(request):
    assert CHROMIUM and CHROMEDRIVER, "install chromium and chromium-driver (.ci/install-browser)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="crm-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    travel_browser(driver)  # CRM_TEST_CLOCK: the pages read the server's clock
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    if getattr(request.node, "report_call", None) is not None and request.node.report_call.failed:
        driver.save_screenshot(str(ARTIFACTS / f"failed-{request.node.name}.png"))  # what the browser showed
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def text_in(css, text):
    return ec.text_to_be_present_in_element(by(css), text)


def sign_in(browser, server, user):
    browser.get(f"{server.base}/admin/login/")
    browser.find_element(*by("input[name=username]")).send_keys(user.email)
    browser.find_element(*by("input[name=password]")).send_keys(PASSWORD)
    browser.find_element(*by("input[type=submit]")).click()
    wait(browser).until(lambda d: d.find_elements(*by("#today-numbers")))


def shot(browser, name):
    """A screenshot of the whole page (the window grows to the page's height)."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(max(height, 1000), 3000))
    time.sleep(0.3)
    browser.save_screenshot(str(ARTIFACTS / f"console-{name}.png"))
    browser.set_window_size(1400, 1000)


def select(element, value):
    Select(element).select_by_value(str(value))


def png(title="PASSPORT") -> bytes:
    image = Image.new("RGB", (600, 400), (232, 238, 242))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 600, 70), fill=(65, 118, 144))
    draw.text((24, 18), title, font=ImageFont.load_default(size=32), fill="white")
    draw.rectangle((24, 100, 184, 300), fill=(180, 190, 200))
    for row, line in enumerate(("Surname: STUDENT", "Given names: SAM", "Nationality: Utopian", "Expires: 2035-01-01")):
        draw.text((210, 110 + 40 * row), line, font=ImageFont.load_default(size=20), fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class StudentSocket:
    """The student's own app: a real websocket client with the student's access token."""

    def __init__(self, server, student):
        self.ws = ws_connect(f"ws://127.0.0.1:{server.port}/ws/?token={access_token_for(student)}")
        self.seen = []

    def next(self, event, *, where=lambda data: True, timeout=15):
        deadline = time.monotonic() + timeout
        for frame in self.seen:
            if frame["event"] == event and where(frame["data"]):
                self.seen.remove(frame)
                return frame["data"]
        while time.monotonic() < deadline:
            frame = json.loads(self.ws.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if frame["event"] == event and where(frame["data"]):
                return frame["data"]
            self.seen.append(frame)
        raise AssertionError(f"no {event} within {timeout}s")

    def send(self, event, data, frame_id=None):
        self.ws.send(json.dumps({"event": event, "data": data, **({"id": frame_id} if frame_id else {})}))


def today_at(office, hour, minute=0):
    local = timezone.now().astimezone(office.tzinfo)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0)


# --- the manager: today's numbers, a waiting lead assigned from the board, a document approved ---------


def test_manager_day(browser, server):
    office = OfficeFactory(name="London office")
    manager = ManagerFactory(office=office, first_name="Maya", last_name="Manager")
    consultant = ConsultantFactory(office=office, first_name="Carl", last_name="Consultant")
    ConsultantFactory(office=office, first_name="Cora", last_name="Second")
    waiting_lead = LeadFactory(office=office, first_name="Wanda", last_name="Waiting", source="website")
    for status in ("contacted", "qualified", "converted"):
        LeadFactory(office=office, status=status, assigned_to=consultant)
    student = StudentFactory(office=office, first_name="Sam", last_name="Student")
    LeadFactory(office=office, assigned_to=consultant, student=student, status="applied")
    Appointment.objects.create(
        office=office,
        consultant=consultant,
        student=student,
        title="Application review",
        start=today_at(office, 23),
        end=today_at(office, 23, 30),
    )
    chat = conversation_ensure_direct(user_a=consultant, user_b=student, office=office)
    send(student, chat, "Hello, is my offer letter in?")
    document = document_upload(
        actor=student, file=SimpleUploadedFile("passport.png", png()), kind="passport", student=student
    )

    sign_in(browser, server, manager)
    numbers = browser.find_element(*by("#today-numbers")).text
    assert browser.find_element(*by("#tile-appointments")).text == "1"
    assert browser.find_element(*by("#tile-waiting")).text == "1"
    assert browser.find_element(*by("#tile-unassigned")).text == "1"
    assert browser.find_element(*by("#tile-documents")).text == "1"
    assert "Hello, is my offer letter in?" in browser.find_element(*by("#waiting")).text
    assert "Wanda Waiting" in browser.find_element(*by("#unassigned")).text and numbers
    shot(browser, "manager-home")

    browser.find_element(*by("#tile-unassigned")).click()  # to the board
    card = wait(browser).until(lambda d: d.find_element(*by(f"#lead-{waiting_lead.pk}")))
    select(card.find_element(*by("form.lead-assign select")), consultant.pk)
    card.find_element(*by("form.lead-assign input[type=submit]")).click()
    wait(browser).until(text_in(".messagelist", "Wanda Waiting is now Carl Consultant's lead."))
    assert "Carl Consultant" in browser.find_element(*by(f"#lead-{waiting_lead.pk}")).text
    waiting_lead.refresh_from_db()
    assert waiting_lead.assigned_to == consultant
    shot(browser, "manager-board")

    browser.find_element(*by(".console-nav a[href$='/document/review/']")).click()
    item = wait(browser).until(lambda d: d.find_element(*by(f"#document-{document.pk}")))
    wait(browser).until(
        lambda d: d.execute_script(
            "const i = arguments[0].querySelector('img'); return i && i.complete && i.naturalWidth > 0", item
        )
    )
    shot(browser, "manager-review")
    item.find_element(*by("textarea")).send_keys("Clear scan, thank you")
    item.find_element(*by("button[value=approved]")).click()
    wait(browser).until(text_in(".messagelist", "Passport of Sam Student approved."))
    document.refresh_from_db()
    assert document.status == "approved" and document.review_note == "Clear scan, thank you"
    shot(browser, "manager-review-done")

    browser.get(f"{server.base}/admin/reports/")
    wait(browser).until(lambda d: d.find_element(*by("body")).get_attribute("data-charts-rendered") == "7")
    assert browser.find_element(*by("#summary-appointments")).text == "1"  # today's counts in the default range
    shot(browser, "manager-reports")

    browser.get(f"{server.base}/admin/monitor/{chat.pk}/")
    wait(browser).until(text_in("#live-state", "live"))
    assert "Hello, is my offer letter in?" in browser.find_element(*by("#messages")).text
    headers = {"Authorization": f"Bearer {access_token_for(student)}"}
    sent = requests.post(
        f"{server.base}/api/v1/messages",
        json={"conversation_id": chat.pk, "content": "Still there?"},
        headers=headers,
        timeout=10,
    ).json()
    wait(browser).until(text_in("#messages", "Still there?"))
    requests.delete(f"{server.base}/api/v1/messages/{sent['id']}", headers=headers, timeout=10)
    wait(browser).until(lambda d: "Still there?" not in d.find_element(*by("#messages")).text)
    assert "This message was deleted." in browser.find_element(*by("#messages")).text
    shot(browser, "manager-monitor")


# --- the consultant: answers a student in the inbox, the student's socket hears it, the reply comes back --


def test_consultant_day(browser, server, tmp_path):
    office = OfficeFactory(name="London office")
    consultant = ConsultantFactory(office=office, first_name="Carl", last_name="Consultant")
    student = StudentFactory(office=office, first_name="Sam", last_name="Student")
    LeadFactory(
        office=office,
        assigned_to=consultant,
        student=student,
        status="qualified",
        first_name="Sam",
        last_name="Student",
    )
    chat = conversation_ensure_direct(user_a=consultant, user_b=student, office=office)
    send(student, chat, "Hi Carl, which documents do I still need?")
    student_socket = StudentSocket(server, student)

    sign_in(browser, server, consultant)
    assert browser.find_element(*by("#tile-unread")).text == "1"
    assert "waiting for us" in browser.find_element(*by("#inbox")).text
    shot(browser, "consultant-home")

    browser.find_element(*by(f"#inbox a[href$='/conversation/{chat.pk}/change/']")).click()
    wait(browser).until(text_in("#messages", "which documents do I still need?"))
    wait(browser).until(text_in("#live-state", "live"))
    # the console read the student's message: the student's socket gets the receipt
    assert student_socket.next("message_read", where=lambda d: d["user_id"] == consultant.pk)["seq"] == 1

    student_socket.send("typing_start", {"conversation_id": chat.pk})
    wait(browser).until(text_in("#typing", "Sam Student is typing"))
    compose = browser.find_element(*by("#compose textarea"))
    compose.send_keys("Your passport and last transcript, please.")
    browser.find_element(*by("#compose input[type=submit]")).click()
    received = student_socket.next("message_received", where=lambda d: d["sender_id"] == consultant.pk)
    assert received["content"] == "Your passport and last transcript, please." and received["seq"] == 2

    student_socket.send(
        "send_message",
        {"conversation_id": chat.pk, "content": "Great, uploading them tonight!", "client_id": "student-1"},
        frame_id="s1",
    )
    wait(browser).until(text_in("#messages", "Great, uploading them tonight!"))  # no reload
    wait(browser).until(lambda d: "typing" not in d.find_element(*by("#typing")).text)

    mine = browser.find_element(*by("#messages li.own"))
    mine.find_element(*by("button")).click()  # Edit
    editor = wait(browser).until(lambda d: d.find_element(*by("#messages form.chat-edit textarea")))
    editor.clear()
    editor.send_keys("Your passport and both transcripts, please.")
    browser.find_element(*by("#messages form.chat-edit button[type=submit]")).click()
    assert student_socket.next("message_edited")["content"] == "Your passport and both transcripts, please."

    attachment = tmp_path / "checklist.png"
    attachment.write_bytes(png("CHECKLIST"))
    browser.find_element(*by("#attach")).send_keys(str(attachment))
    browser.find_element(*by("#compose textarea")).send_keys("Here is the checklist.")
    browser.find_element(*by("#compose input[type=submit]")).click()
    with_file = student_socket.next("message_received", where=lambda d: d["sender_id"] == consultant.pk)
    assert with_file["type"] == "image" and with_file["attachments"][0]["file_name"] == "checklist.png"
    wait(browser).until(
        lambda d: d.execute_script(
            "const i = document.querySelector('#messages .files img'); return i && i.naturalWidth > 0"
        )
    )

    # The server goes away; a message is stored meanwhile (another node); the page reconnects and catches up.
    server.stop()
    wait(browser).until(lambda d: d.find_element(*by("#live-state")).get_attribute("data-state") != "live")
    send(student, chat, "Sent while you were offline")
    server.start()
    wait(browser, 30).until(text_in("#messages", "Sent while you were offline"))
    wait(browser).until(text_in("#live-state", "live"))
    assert browser.find_element(*by("#messages")).text.count("Sent while you were offline") == 1

    student_socket = StudentSocket(server, student)  # the student's app reconnected too, and reads
    student_socket.send("mark_message_read", {"message_id": with_file["id"]}, frame_id="r1")
    wait(browser).until(lambda d: "read" in d.find_elements(*by("#messages li.own .receipt"))[-1].text)
    shot(browser, "consultant-inbox")

    browser.find_elements(*by("#messages li.own"))[0].find_element(*by("button:last-of-type")).click()  # Delete
    browser.switch_to.alert.accept()
    wait(browser).until(text_in("#messages", "This message was deleted."))
    assert student_socket.next("message_deleted")["seq"] == 2
    assert Message.objects.get(conversation=chat, seq=2).deleted_at is not None

    browser.get(f"{server.base}/admin/reports/")
    wait(browser).until(text_in("#refusal", "Reports are for managers and super admins."))
    shot(browser, "consultant-403")


# --- the receptionist: a walk-in, the duplicate warning, a booking (and a taken slot) ----------------


def test_receptionist_day(browser, server):
    office = OfficeFactory(name="London office")
    receptionist = ReceptionistFactory(office=office, first_name="Rita", last_name="Reception")
    consultant = ConsultantFactory(office=office, first_name="Carl", last_name="Consultant")
    LeadFactory(office=office, first_name="Pat", last_name="Parent", phone="+447700900123")  # stored E.164

    sign_in(browser, server, receptionist)
    form = browser.find_element(*by("#walk-in-form"))
    form.find_element(*by("input[name=first_name]")).send_keys("Kim")
    form.find_element(*by("input[name=last_name]")).send_keys("Parent")
    form.find_element(*by("input[name=phone]")).send_keys("+44 7700 900123")
    shot(browser, "receptionist-home")
    form.find_element(*by("input[type=submit]")).click()
    warning = wait(browser).until(lambda d: d.find_element(*by("#duplicate-warning")))
    assert "Pat Parent already has this phone in this office" in warning.text
    assert Lead.objects.filter(first_name="Kim").count() == 0
    shot(browser, "receptionist-duplicate")
    warning.find_element(*by("#id_create_anyway")).click()  # a different person sharing the family phone
    browser.find_element(*by("input[name=_save]")).click()

    wait(browser).until(text_in("#calendar-message", "Booking for Kim Parent"))
    kim = Lead.objects.get(first_name="Kim")
    select(browser.find_element(*by("#consultant-filter")), consultant.pk)  # reloads with the free slots
    wait(browser).until(lambda d: "consultant=" in d.current_url)
    slot = first_free_slot(browser)
    start = datetime.fromisoformat(slot.get_attribute("data-start"))
    slot.click()
    dialog = wait(browser).until(lambda d: d.find_element(*by("#booking-dialog[open]")))
    assert "Kim Parent" in dialog.find_element(*by("select[name=lead_id]")).text

    # Meanwhile a colleague books that very slot for someone else: the calendar says so clearly (409).

    appointment_book(
        actor=receptionist,
        consultant=consultant,
        lead=LeadFactory(office=office),
        title="Other",
        start=start,
        end=start + timedelta(minutes=30),
    )
    dialog.find_element(*by("input[type=submit]")).click()
    wait(browser).until(text_in("#booking-dialog .dialog-error", "That time is taken"))
    assert "already has an appointment at that time" in dialog.find_element(*by(".dialog-error")).text
    shot(browser, "receptionist-slot-taken")
    dialog.find_element(*by("button[type=button]")).click()  # close

    wait(browser).until(lambda d: first_free_slot(d).get_attribute("data-start") != slot_start(start))
    first_free_slot(browser).click()
    dialog = wait(browser).until(lambda d: d.find_element(*by("#booking-dialog[open]")))
    dialog.find_element(*by("input[type=submit]")).click()
    wait(browser).until(text_in("#calendar-message", "Booked: Kim Parent"))
    booked = Appointment.objects.get(lead=kim)
    assert booked.consultant == consultant and booked.status == "scheduled" and booked.start != start
    wait(browser).until(lambda d: d.find_elements(*by(f"[data-appointment='{booked.pk}']")))
    shot(browser, "receptionist-calendar")


def slot_start(start):
    return start.isoformat()


def first_free_slot(browser):
    for _ in range(3):  # late on the last day of a week there is nothing free left in it
        try:
            return wait(browser, 5).until(
                lambda d: next(
                    (s for s in d.find_elements(*by("#calendar [data-kind=free]")) if s.is_displayed()), False
                )
            )
        except TimeoutException:
            browser.find_element(*by(".fc-next-button")).click()
    raise NoSuchElementException("no free slot")


# --- the super admin: every office, an office switcher, no third-party clutter -----------------------


def test_super_admin_day(browser, server):
    london = OfficeFactory(name="London office")
    toronto = OfficeFactory(name="Toronto office", timezone="America/Toronto")
    admin = SuperAdminFactory(first_name="Ada", last_name="Admin")
    for office in (london, toronto):
        consultant = ConsultantFactory(office=office)
        LeadFactory(office=office, first_name=f"New in {office.name}")
        make_conversation(consultant, StudentFactory(office=office), office=office)

    sign_in(browser, server, admin)
    page = browser.find_element(*by("body")).text
    for clutter in ("SOCIAL ACCOUNTS", "SITES", "TOKEN BLACKLIST", "GROUPS", "View site"):
        assert clutter not in page.upper() if clutter.isupper() else clutter not in page
    assert "New in London office" in page and "New in Toronto office" in page
    assert browser.find_element(*by("#tile-unassigned")).text == "2"
    shot(browser, "super-admin-home")
    select(browser.find_element(*by("#office-switcher select")), toronto.pk)
    wait(browser).until(lambda d: d.find_element(*by("#tile-unassigned")).text == "1")
    assert "Today across Toronto office" in browser.find_element(*by("h1")).text
    assert "New in London office" not in browser.find_element(*by("body")).text
    shot(browser, "super-admin-office")
    assert Document.objects.count() == 0
