"""End to end in headless Chromium: a manager signs in to the console, sees the report charts
render, opens the live monitor and sees a message sent through the API appear without a reload.
Screenshots go to artifacts/."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import requests

from accounts.tests.factories import PASSWORD, ConsultantFactory, ManagerFactory, ReceptionistFactory
from conftest import access_token_for
from core.tests.live_server import ROOT, daphne_servers
from leads.tests.factories import LeadFactory
from messaging.tests.factories import make_conversation, send
from offices.tests.factories import OfficeFactory

ARTIFACTS = ROOT / "artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # In CI the browser must be there (.ci/install-browser): a missing one fails instead of skipping.
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"),
                       reason="Debian's chromium and chromium-driver are not installed (.ci/install-browser)"),
]


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM and CHROMEDRIVER, "install chromium and chromium-driver (.ci/install-browser)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="crm-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_manager_sees_charts_and_live_messages(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    office = OfficeFactory(name="Browser office")
    manager = ManagerFactory(office=office, email="browser.manager@example.com")
    consultant, receptionist = ConsultantFactory(office=office), ReceptionistFactory(office=office)
    for status in ("new", "contacted", "converted", "lost"):
        LeadFactory(office=office, status=status, assigned_to=consultant, lost_reason="x" if status == "lost" else "")
    chat = make_conversation(consultant, receptionist, office=office, title="Front desk")
    send(consultant, chat, "Morning! Any walk-ins today?")

    with daphne_servers(tmp_path) as (ports, _):
        base = f"http://127.0.0.1:{ports[0]}"
        wait = WebDriverWait(browser, 15)
        browser.get(f"{base}/admin/login/")
        browser.find_element(By.NAME, "username").send_keys(manager.email)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        wait.until(ec.presence_of_element_located((By.LINK_TEXT, "Reports dashboard")))

        browser.get(f"{base}/admin/reports/")
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-charts-rendered") == "6")
        drawn = browser.execute_script(
            "return [...document.querySelectorAll('canvas.report-chart')].filter(c => c.width > 0 && c.height > 0).length")
        assert drawn == 6
        browser.save_screenshot(str(ARTIFACTS / "console-dashboard.png"))

        browser.get(f"{base}/admin/monitor/{chat.id}/")
        wait.until(ec.text_to_be_present_in_element((By.ID, "live-state"), "live"))
        assert "Any walk-ins today?" in browser.find_element(By.ID, "messages").text
        sent = requests.post(f"{base}/api/v1/messages", json={"conversation_id": chat.id, "content": "Two walk-ins at 10:00"},
                             headers={"Authorization": f"Bearer {access_token_for(receptionist)}"}, timeout=10)
        assert sent.status_code == 201
        wait.until(ec.text_to_be_present_in_element((By.ID, "messages"), "Two walk-ins at 10:00"))
        browser.save_screenshot(str(ARTIFACTS / "console-monitor.png"))
    assert Path(ARTIFACTS / "console-monitor.png").stat().st_size > 0
