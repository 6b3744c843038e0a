"""The console as staff use it all day, in headless Chromium against a real daphne process: what a
person does with the mouse and sees on the screen (issue 25). Screenshots in artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from selenium.webdriver.common.action_chains import ActionChains

from accounts.tests.factories import ConsultantFactory, ManagerFactory
from console.tests.browser_kit import by, console_browser, console_server, open_page, screenshots, sign_in, wait
from core.tests.browser import needs_browser
from leads.models import Lead
from leads.tests.factories import LeadFactory
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
