"""The console as staff use it all day, in headless Chromium against a real daphne process: what a
person does with the mouse and sees on the screen (issue 25). Screenshots in artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from accounts.tests.factories import (
    ConsultantFactory,
    ManagerFactory,
    ReceptionistFactory,
    StudentFactory,
    SuperAdminFactory,
)
from appointments.models import Appointment
from conftest import access_token_for
from console.tests.browser_kit import by, console_browser, console_server, open_page, screenshots, sign_in, wait
from core.tests.browser import needs_browser
from leads.models import Lead
from leads.tests.factories import LeadFactory
from messaging.models import CannedReply
from messaging.services import conversation_ensure_direct
from messaging.tests.factories import send
from offices.models import OpeningHours
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

# A Thursday morning in London.
MOMENT = datetime(2031, 3, 13, 10, 0, tzinfo=UTC)


def drag(browser, source, target) -> None:
    """A mouse drag as a person makes it: press on the card, move in steps onto the column, release."""
    chain = ActionChains(browser, duration=50).click_and_hold(source).pause(0.2).move_by_offset(8, 8).pause(0.2)
    chain.move_to_element(target).pause(0.2).move_by_offset(0, 6).pause(0.2).release().perform()


def test_dragging_a_card_to_a_later_stage_moves_the_lead(tmp_path):
    with time_machine.travel(MOMENT, tick=True):
        office = OfficeFactory(name="London")
        manager = ManagerFactory(office=office, first_name="Maya", last_name="Manager")
        consultant = ConsultantFactory(office=office)
        lead = LeadFactory(office=office, assigned_to=consultant, first_name="Nina", last_name="New")
        with console_server(tmp_path) as base, console_browser() as browser:
            sign_in(browser, base, manager)
            open_page(browser, f"{base}/admin/leads/lead/board/", "#lead-board")
            card = browser.find_element(*by(f"#lead-{lead.pk}"))
            drag(browser, card, browser.find_element(*by("#column-qualified ol")))
            wait(browser).until(lambda d: "Nina New moved to Qualified." in d.find_element(*by("body")).text)
            assert "/admin/leads/lead/board/" in browser.current_url
            assert browser.find_elements(*by(f"#column-qualified #lead-{lead.pk}"))
            screenshots(browser, "manager-board-dragged")
    assert Lead.objects.get(pk=lead.pk).status == "qualified"


# Monday 10 March 2031, 09:00 in London (GMT); 20:00 in Sydney (AEDT).
MONDAY = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)


def event_fits(browser, element) -> bool:
    """The event's text is all inside its block (nothing cut off at the bottom or the side)."""
    sizes = browser.execute_script(
        "const block = arguments[0].getBoundingClientRect(), text = arguments[0].querySelector('.event-text');"
        "const inner = text.getBoundingClientRect();"
        "return [block.top, block.bottom, block.right, inner.top, inner.bottom, inner.right];",
        element,
    )
    top, bottom, right, text_top, text_bottom, text_right = sizes
    return text_top >= top and text_bottom <= bottom + 1 and text_right <= right + 1


def test_the_calendar_shows_every_appointment_names_consultants_and_books_outside_hours(tmp_path):
    with time_machine.travel(MONDAY, tick=True):
        london = OfficeFactory(name="London", timezone="Europe/London", country="GB")
        OpeningHours.objects.bulk_create(
            [OpeningHours(office=london, weekday=d, opens_at=time(9), closes_at=time(19)) for d in range(1, 6)]
        )
        sydney = OfficeFactory(name="Sydney", timezone="Australia/Sydney", country="AU")
        receptionist = ReceptionistFactory(office=london, first_name="Rita", last_name="Reception")
        carl = ConsultantFactory(office=london, first_name="Carl", last_name="Consultant")
        cora = ConsultantFactory(office=london, first_name="Cora", last_name="Second")
        long_title = Appointment.objects.create(
            office=london,
            consultant=cora,
            lead=LeadFactory(office=london, first_name="Penelope", last_name="Whitfield"),
            title="Scholarship application review",
            start=datetime(2031, 3, 11, 10, 0, tzinfo=UTC),
            end=datetime(2031, 3, 11, 10, 45, tzinfo=UTC),
        )
        night = Appointment.objects.create(  # as the seed books Sydney: 01:00 there
            office=sydney,
            consultant=ConsultantFactory(office=sydney, first_name="Sid"),
            lead=LeadFactory(office=sydney, first_name="Night", last_name="Owl"),
            title="Call from Lagos",
            start=datetime(2031, 3, 11, 1, 0, tzinfo=ZoneInfo("Australia/Sydney")),
            end=datetime(2031, 3, 11, 1, 45, tzinfo=ZoneInfo("Australia/Sydney")),
        )
        walk_in = LeadFactory(office=london, first_name="Kim", last_name="Parent", source="walk_in")
        with console_server(tmp_path) as base, console_browser() as browser:
            sign_in(browser, base, receptionist)
            open_page(browser, f"{base}/admin/appointments/appointment/calendar/", "body[data-calendar-ready]")
            # Everyone: both consultants' free slots, each in their colour with their name
            wait(browser).until(lambda d: d.find_elements(*by("#calendar [data-kind=free]")))
            free = browser.find_elements(*by("#calendar [data-kind=free]"))
            both = [f for f in free if f.get_attribute("data-consultants") == f"{carl.pk} {cora.pk}"]
            assert both and both[0].text.split("\n") == ["Carl", "Cora"]
            assert both[0].get_attribute("aria-label").endswith("Free: Carl Consultant, Cora Second")
            colours = browser.execute_script(
                "return [...arguments[0].querySelectorAll('.free-person')].map("
                "(p) => getComputedStyle(p, '::before').backgroundColor)",
                both[0],
            )
            assert colours == ["rgb(31, 95, 153)", "rgb(154, 52, 18)"]  # each consultant's own colour
            block = browser.find_element(*by(f"[data-appointment='{long_title.pk}']"))
            assert block.text == "10:00 Penelope Whitfield: Scholarship application review · Cora"
            assert event_fits(browser, block)  # 45 minutes hold the whole title
            headers = [h.get_attribute("textContent") for h in browser.find_elements(*by(".fc-col-header-cell"))]
            assert headers[0] == "Mon 10/03", headers  # London writes the day before the month
            for name in ("Previous week", "Next week"):
                assert browser.find_elements(*by(f".fc-toolbar button[aria-label='{name}']"))
            screenshots(browser, "receptionist-calendar-everyone")

            # 19:30 this evening for the walk-in, with Carl: warned (closed at 19:00), booked anyway
            evening = datetime(2031, 3, 10, 19, 30, tzinfo=UTC)
            open_page(
                browser,
                f"{base}/admin/appointments/appointment/calendar/?consultant={carl.pk}&lead={walk_in.pk}"
                f"&start={evening.isoformat().replace('+', '%2B')}",
                "#booking-dialog[open]",
            )
            dialog = browser.find_element(*by("#booking-dialog"))
            dialog.find_element(*by("input[type=submit]")).click()
            wait(browser).until(lambda d: "not open then" in dialog.find_element(*by(".dialog-error")).text)
            assert not Appointment.objects.filter(lead=walk_in).exists()
            dialog.find_element(*by("input[name=allow_outside_hours]")).click()
            dialog.find_element(*by("input[type=submit]")).click()
            wait(browser).until(lambda d: "Booked: Kim Parent" in d.find_element(*by("#calendar-message")).text)
            booked = Appointment.objects.get(lead=walk_in)
            shown = wait(browser).until(lambda d: d.find_element(*by(f"[data-appointment='{booked.pk}']")))
            assert shown.is_displayed() and "19:30" in shown.text
            screenshots(browser, "receptionist-calendar-evening")
            walk_in.refresh_from_db()
            assert walk_in.assigned_to == carl  # booking the walk-in gave them their consultant

        with console_server(tmp_path / "admin") as base, console_browser() as browser:
            sign_in(browser, base, SuperAdminFactory())
            open_page(
                browser,
                f"{base}/admin/appointments/appointment/calendar/?office={sydney.pk}",
                "body[data-calendar-ready]",
            )
            owl = wait(browser).until(lambda d: d.find_element(*by(f"[data-appointment='{night.pk}']")))
            assert owl.is_displayed() and "01:00" in owl.text
            assert browser.find_elements(*by(".fc-col-header-cell"))[1].get_attribute("textContent") == "Tue 11/3"
            screenshots(browser, "super-admin-calendar-sydney")


def test_the_inbox_reads_the_offices_clock_in_a_browser_set_to_another_zone(tmp_path):
    """Toronto's 16:30 is Kolkata's 02:00 the next day: a console in a Kolkata browser still reads 16:30,
    in the list, in the conversation and on what arrives live, in one format (24-hour)."""
    with time_machine.travel(datetime(2031, 3, 13, 20, 30, tzinfo=UTC), tick=True):
        toronto = OfficeFactory(name="Toronto", timezone="America/Toronto", country="CA")
        consultant = ConsultantFactory(office=toronto, first_name="Tess", last_name="Toronto")
        student = StudentFactory(office=toronto, first_name="Sam", last_name="Student")
        chat = conversation_ensure_direct(user_a=consultant, user_b=student, office=toronto)
        send(student, chat, "Is my visa letter ready?")
        with console_server(tmp_path) as base, console_browser(time_zone="Asia/Kolkata") as browser:
            zone = browser.execute_script("return Intl.DateTimeFormat().resolvedOptions().timeZone")
            assert zone in ("Asia/Kolkata", "Asia/Calcutta")  # (ICU may name it the old way)
            sign_in(browser, base, consultant)
            open_page(browser, f"{base}/admin/messaging/conversation/{chat.pk}/change/", "#messages li.message")
            row = browser.find_element(*by(f"#inbox-list li[data-conversation='{chat.pk}'] .row-when"))
            assert row.text == "16:30"
            wait(browser).until(lambda d: "16:30" in d.find_element(*by("#messages li.message .meta")).text)
            assert browser.find_element(*by("#messages li.message .meta")).text == "Sam Student · 16:30"
            headers = {"Authorization": f"Bearer {access_token_for(student)}"}
            sent = requests.post(
                f"{base}/api/v1/messages",
                json={"conversation_id": chat.pk, "content": "Any news?"},
                headers=headers,
                timeout=10,
            )
            assert sent.status_code == 201, sent.text
            wait(browser).until(lambda d: len(d.find_elements(*by("#messages li.message"))) == 2)
            live = browser.find_elements(*by("#messages li.message .meta"))[1].text
            assert live.startswith("Sam Student · 16:3"), live  # Toronto's clock, not Kolkata's 02:0x
            assert browser.find_element(
                *by(f"#inbox-list li[data-conversation='{chat.pk}'] .row-when")
            ).text.startswith("16:3")
            screenshots(browser, "consultant-inbox-kolkata-browser")


def test_inbox_triage_canned_replies_contact_panel_transfer_and_the_monitors_sides(tmp_path):
    with time_machine.travel(MONDAY, tick=True):
        london = OfficeFactory(name="London", timezone="Europe/London", country="GB")
        manager = ManagerFactory(office=london, first_name="Maya", last_name="Manager")
        carl = ConsultantFactory(office=london, first_name="Sam", last_name="Consultant")  # a student's first name
        cora = ConsultantFactory(office=london, first_name="Cora", last_name="Second")
        student = StudentFactory(office=london, first_name="Sam", last_name="Okafor")
        lead = LeadFactory(
            office=london,
            first_name="Sam",
            last_name="Okafor",
            student=student,
            assigned_to=carl,
            phone="+447700900123",
        )
        chat = conversation_ensure_direct(user_a=carl, user_b=student, office=london, lead=lead)
        send(student, chat, "What does the visa cost?")
        CannedReply.objects.create(office=london, shortcut="fees", content="The student visa fee is £524.")
        Appointment.objects.create(
            office=london,
            consultant=carl,
            lead=lead,
            student=student,
            title="Visa checklist",
            start=datetime(2031, 3, 12, 14, 0, tzinfo=UTC),
            end=datetime(2031, 3, 12, 14, 30, tzinfo=UTC),
        )
        with console_server(tmp_path) as base, console_browser() as browser:
            sign_in(browser, base, carl)
            open_page(browser, f"{base}/admin/messaging/conversation/{chat.pk}/change/", "#messages li.message")
            panel = wait(browser).until(lambda d: d.find_element(*by("#contact-panel")))
            assert "Sam Okafor" in panel.text and "07700 900123" in panel.text
            assert "12 Mar, 14:00 · Visa checklist" in panel.find_element(*by("#contact-next-appointment")).text
            reply = browser.find_element(*by("#compose textarea"))
            reply.send_keys("/fe")
            option = wait(browser).until(lambda d: d.find_element(*by("#canned-replies [aria-selected=true]")))
            assert option.text.startswith("/fees")
            reply.send_keys(Keys.ENTER)  # puts the reply in, does not send "/fe"
            assert reply.get_attribute("value") == "The student visa fee is £524."
            reply.send_keys(Keys.ENTER)  # sends
            wait(browser).until(lambda d: "£524" in d.find_element(*by("#messages")).text)
            browser.find_element(*by("#triage button[data-status=resolved]")).click()
            wait(browser).until(lambda d: d.find_element(*by("#triage")).get_attribute("data-status") == "resolved")
            wait(browser).until(lambda d: not d.find_elements(*by(f"#inbox-list li[data-conversation='{chat.pk}']")))
            screenshots(browser, "consultant-inbox-triage")
            open_page(browser, f"{base}/admin/messaging/conversation/?status=resolved&q=okaf", "#inbox-list")
            assert browser.find_elements(*by(f"#inbox-list li[data-conversation='{chat.pk}']"))  # by name
            open_page(browser, f"{base}/admin/messaging/conversation/?status=all&q=visa", "#inbox-list")
            wait(browser).until(lambda d: "What does the visa cost" in d.find_element(*by("#message-hits")).text)
            screenshots(browser, "consultant-inbox-search")

            sign_in(browser, base, manager)
            open_page(browser, f"{base}/admin/monitor/{chat.pk}/", "#messages li.message")
            wait(browser).until(lambda d: len(d.find_elements(*by("#messages li.message"))) == 2)
            asked, answered = browser.find_elements(*by("#messages li.message"))
            assert "side-student" in asked.get_attribute("class") and "Sam Okafor (student)" in asked.text
            assert "side-staff" in answered.get_attribute("class") and "Sam Consultant (consultant)" in answered.text
            assert asked.location["x"] < answered.location["x"]  # two sides of the conversation
            transfer = wait(browser).until(lambda d: d.find_element(*by("#contact-transfer")))
            Select(transfer.find_element(*by("select"))).select_by_value(str(cora.pk))
            screenshots(browser, "manager-monitor-contact")
            transfer.find_element(*by("input[type=submit]")).click()
            wait(browser).until(lambda d: "is now Cora Second's lead" in d.find_element(*by("body")).text)
            assert f"/admin/monitor/{chat.pk}/" in browser.current_url
    lead.refresh_from_db()
    assert lead.assigned_to == cora
    assert set(chat.participants.values_list("user_id", flat=True)) == {student.pk, cora.pk}  # it followed the lead
