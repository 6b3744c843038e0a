"""Driving the console in headless Chromium as staff do: a real daphne process (on the test's travelled
clock, when it has one), a browser in a chosen time zone and on the same clock, desktop and phone
screenshots in artifacts/, the phone-width check, and axe-core's accessibility rules.

The clock: a test that reads "today" travels with time-machine; `console_server` passes the moment to
the server process (CRM_TEST_CLOCK, core/tests/live_server.server_env) and `console_browser` shifts the
page's `Date` by the same offset before any script of the page runs, so the page, the server and the
test agree on what "today" and "now" are."""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import time_machine
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from accounts.tests.factories import PASSWORD
from core.tests.browser import CHROMEDRIVER, CHROMIUM
from core.tests.live_server import ROOT, daphne_servers

ARTIFACTS = ROOT / "artifacts"
DESKTOP = (1440, 900)
PHONE = (390, 844)
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# What a page must not have: axe's two worst impacts (minor and moderate are reported, not failed).
AXE_FAILING = ("serious", "critical")

# The page's Date, moved by the test's travel: `new Date()` and `Date.now()` read the travelled clock,
# every other use of Date is the browser's own.
_TRAVELLED_DATE = """(() => {
  const offset = %d, Real = Date;
  function Travelled(...args) {
    if (!new.target) return new Real(Real.now() + offset).toString();
    return args.length ? new Real(...args) : new Real(Real.now() + offset);
  }
  Travelled.prototype = Real.prototype;
  Object.setPrototypeOf(Travelled, Real);
  Travelled.now = () => Real.now() + offset;
  window.Date = Travelled;
})();"""


@contextmanager
def console_server(log_dir: Path, **env) -> Iterator[str]:
    """One daphne process sharing the test database, Redis and clock; yields its base URL."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with daphne_servers(log_dir, **env) as (ports, _logs):
        yield f"http://127.0.0.1:{ports[0]}"


@contextmanager
def console_browser(*, time_zone: str = "UTC") -> Iterator[webdriver.Chrome]:
    """Headless Chromium at desktop size whose system time zone is `time_zone` (the TZ variable, as
    a laptop set to that zone would be), on the test's clock."""
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
        "--hide-scrollbars",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER, env={**os.environ, "TZ": time_zone})
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    if time_machine.escape_hatch.is_travelling():
        offset_ms = int((time.time() - time_machine.escape_hatch.time.time()) * 1000)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _TRAVELLED_DATE % offset_ms})
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    except BaseException:  # what the browser showed when the test failed
        test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0].rsplit("::", 1)[-1]
        full_screenshot(driver, ARTIFACTS / f"failed-{test.replace('/', '_')}.png")
        raise
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def by(css: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, css


def wait(browser, seconds: float = 15) -> WebDriverWait:
    """A wait that looks again when what it read belonged to the page being left (a form posted: the old
    page's message list goes stale under the condition). The driver says so in two ways: a
    StaleElementReferenceException, or, from Chromium 156, a plain WebDriverException "Node with given id
    does not belong to the document"; both are ignored (a real failure still ends in the timeout)."""
    return WebDriverWait(browser, seconds, ignored_exceptions=(WebDriverException,))


def replaced(element) -> Callable[[webdriver.Chrome], bool]:
    """The page `element` was on has been replaced (a form posted, a link followed)."""

    def check(_browser):
        try:
            element.is_enabled()  # any call on an element of a page that is gone fails
        except WebDriverException:  # stale, in either of the driver's words
            return True
        return False

    return check


def sign_in(browser, base: str, user) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/admin/login/")
    browser.find_element(*by("input[name=username]")).send_keys(user.email)
    browser.find_element(*by("input[name=password]")).send_keys(PASSWORD)
    browser.find_element(*by("input[type=submit]")).click()
    wait(browser).until(lambda d: d.find_elements(*by("#today-numbers")))


def open_page(browser, url: str, ready: str = "#content") -> None:
    browser.get(url)
    wait(browser).until(lambda d: d.find_elements(*by(ready)))


def as_phone(browser) -> None:
    """A 390x844 phone: a mobile viewport (the page's meta viewport applies), touch, no window chrome."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})


def as_desktop(browser) -> None:
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    browser.set_window_size(*DESKTOP)


def page_overflow(browser, width: int) -> dict:
    """How far the page is wider than a screen `width` CSS px wide, and the elements sticking out. (A mobile
    viewport grows to the content, so window.innerWidth would hide the overflow: the phone's width is given.)"""
    return browser.execute_script(
        """
        const width = arguments[0], page = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
        const culprits = [];
        if (page > width) {
          for (const el of document.querySelectorAll("body *")) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 1 && box.width > 0 && getComputedStyle(el).position !== "fixed") {
              const classes = typeof el.className === "string" ? el.className.trim().split(/\\s+/).join(".") : "";
              culprits.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes ? "." + classes : ""}` +
                            ` right=${Math.round(box.right)}`);
            }
          }
        }
        return {viewport: width, page, culprits: culprits.slice(0, 8)};
        """,
        width,
    )


def full_screenshot(browser, path: Path, *, max_height: int = 4000) -> None:
    """The whole page (up to `max_height` CSS pixels), not only what the window shows."""
    size = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size[0], "height": min(size[1], max_height), "scale": 1},
        },
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def screenshots(browser, name: str) -> dict:
    """Desktop (1440x900) and phone (390x844) screenshots of the page as it is now, in
    artifacts/console-<name>-desktop.png and -phone.png; answers the page's overflow at phone width."""
    as_desktop(browser)
    time.sleep(0.2)
    full_screenshot(browser, ARTIFACTS / f"console-{name}-desktop.png")
    as_phone(browser)
    time.sleep(0.4)  # (layout and charts settle at the new width)
    overflow = page_overflow(browser, PHONE[0])
    full_screenshot(browser, ARTIFACTS / f"console-{name}-phone.png")
    as_desktop(browser)
    return overflow


def axe_violations(browser, *, impacts=AXE_FAILING) -> list[dict]:
    """axe-core's WCAG 2.x A/AA rules over the page as it is now: the violations of these impacts,
    each as {id, impact, help, count (elements), nodes: [the first targets]}."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(AXE.read_text())
    browser.set_script_timeout(60)
    result = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                           resultTypes: ["violations"]})
          .then((r) => done(JSON.stringify(r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            count: v.nodes.length, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 6)})))))
          .catch((e) => done(JSON.stringify({error: String(e)})));
        """
    )
    violations = json.loads(result)
    assert not isinstance(violations, dict), violations
    return [v for v in violations if v["impact"] in impacts]
