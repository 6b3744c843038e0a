"""Issue 22 in headless Chromium: a manager writes a routing rule, tries it against a sample lead (the answer
names the consultant, nothing is saved), then saves it. Screenshots at 1440 and 390 px in artifacts/
(console-manager-routing-try-desktop.png / -phone.png); no page wider than the phone, no serious or
critical axe-core violation."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import Select

from accounts.tests.factories import ConsultantFactory, ManagerFactory
from console.tests.browser_kit import (
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
from leads.models import LeadRoutingRule
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def test_a_manager_tries_a_rule_then_saves_it(tmp_path):
    london = OfficeFactory(name="London", timezone="Europe/London")
    maya = ManagerFactory(office=london, first_name="Maya", last_name="Manager")
    carl = ConsultantFactory(office=london, first_name="Carl", last_name="Consultant")
    ConsultantFactory(office=london, first_name="Cora", last_name="Other")
    with console_server(tmp_path) as base, console_browser(time_zone="Europe/London") as browser:
        sign_in(browser, base, maya)
        open_page(browser, f"{base}/admin/leads/leadroutingrule/add/", "#leadroutingrule_form")
        browser.find_element(*by("input[name=name]")).send_keys("UK walk-ins")
        browser.find_element(*by("input[name=sources][value=walk_in]")).click()
        browser.find_element(*by("input[name=countries]")).send_keys("GB")
        Select(browser.find_element(*by("select[name=consultant]"))).select_by_value(str(carl.pk))
        Select(browser.find_element(*by("select[name=sample_source]"))).select_by_value("walk_in")
        browser.find_element(*by("input[name=sample_countries]")).send_keys("gb")
        browser.find_element(*by("input[name=_try]")).click()
        result = wait(browser).until(lambda d: d.find_elements(*by("#routing-try-result")))[0]
        assert "Carl Consultant would get this lead by this rule" in result.text
        assert browser.execute_script("return location.hash") == "#routing-try"
        assert not LeadRoutingRule.objects.exists()
        assert browser.find_element(*by("input[name=name]")).get_attribute("value") == "UK walk-ins"
        assert screenshots(browser, "manager-routing-try")["culprits"] == []
        violations = axe_violations(browser)
        assert violations == [], [v.get("nodes") for v in violations]

        browser.find_element(*by("input[name=_save]")).click()
        wait(browser).until(lambda d: d.find_elements(*by("#result_list")))
        rule = LeadRoutingRule.objects.get()
        assert (rule.name, rule.countries, rule.consultant_id) == ("UK walk-ins", ["GB"], carl.pk)
