"""What a browser front end meets, in headless Chromium against a real daphne process: CORS from a
page on another origin, and the API docs (Swagger UI, ReDoc) working with no network."""

import json
import re

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from accounts.tests.factories import PASSWORD, ConsultantFactory
from core.tests.browser import chromium, needs_browser, static_site
from core.tests.live_server import ROOT, daphne_servers
from messaging.tests.factories import make_conversation, send
from offices.tests.factories import OfficeFactory

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

METRICS_TOKEN = "metrics-token-for-the-browser-test"

FRONT_END = """<!doctype html><meta charset="utf-8"><title>front end</title><pre id="out">running</pre>
<script>
(async () => {
  const api = new URLSearchParams(location.search).get("api");
  const out = document.getElementById("out");
  try {
    const login = await fetch(api + "/api/v1/auth/login", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({email: "%(email)s", password: "%(password)s"}),
    });
    const {access} = await login.json();
    const seen = [];
    for (let n = 0; n < 2; n++) {  // the second call rides the cached preflight
      const page = await fetch(api + "/api/v1/conversations", {headers: {Authorization: "Bearer " + access}});
      seen.push((await page.json()).results[0].last_message.content);
    }
    out.textContent = JSON.stringify({ok: true, login: login.status, seen});
  } catch (error) {
    out.textContent = JSON.stringify({ok: false, error: String(error)});
  }
})();
</script>"""


def options_answered(base: str) -> int:
    text = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5).text
    found = re.search(r'crm_http_requests_total\{method="OPTIONS",status="2xx"\} ([0-9.]+)', text)
    return int(float(found.group(1))) if found else 0


def run_page(browser, site: str, api: str) -> dict:
    browser.get(f"{site}/index.html?api={api}")
    WebDriverWait(browser, 15).until(lambda d: d.find_element("id", "out").text != "running")
    return json.loads(browser.find_element("id", "out").text)


def test_a_page_on_an_allowed_origin_calls_the_api_and_others_cannot(tmp_path):
    office = OfficeFactory(name="Browser CORS")
    consultant, colleague = ConsultantFactory(office=office), ConsultantFactory(office=office)
    send(colleague, make_conversation(consultant, colleague, office=office), "hello from the API")
    allowed_dir, other_dir = tmp_path / "allowed", tmp_path / "other"
    for folder in (allowed_dir, other_dir):
        folder.mkdir()
        (folder / "index.html").write_text(FRONT_END % {"email": consultant.email, "password": PASSWORD})

    with (
        static_site(allowed_dir) as allowed,
        static_site(other_dir) as elsewhere,
        daphne_servers(tmp_path, CORS_ALLOWED_ORIGINS=allowed, METRICS_TOKEN=METRICS_TOKEN) as (ports, _),
        chromium() as browser,
    ):
        api = f"http://127.0.0.1:{ports[0]}"
        before = options_answered(api)
        assert run_page(browser, allowed, api) == {"ok": True, "login": 200, "seen": ["hello from the API"] * 2}
        # a real preflight for each of the two URLs; the repeat call used the cached one
        assert options_answered(api) - before == 2

        refused = run_page(browser, elsewhere, api)
        assert refused["ok"] is False and "Failed to fetch" in refused["error"]


def test_preflight_headers(tmp_path):
    front_end = "http://localhost:3000"
    with daphne_servers(tmp_path, CORS_ALLOWED_ORIGINS=f"{front_end},https://app.example.com") as (ports, _):
        api = f"http://127.0.0.1:{ports[0]}"
        asked = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        answer = requests.options(f"{api}/api/v1/messages", headers={"Origin": front_end, **asked}, timeout=5)
        assert answer.status_code == 200
        assert answer.headers["Access-Control-Allow-Origin"] == front_end
        assert "authorization" in answer.headers["Access-Control-Allow-Headers"]
        assert "POST" in answer.headers["Access-Control-Allow-Methods"]
        assert answer.headers["Access-Control-Max-Age"] == "86400"
        assert "Access-Control-Allow-Credentials" not in answer.headers  # bearer tokens, never cookies
        stranger = requests.options(
            f"{api}/api/v1/messages", headers={"Origin": "https://evil.example", **asked}, timeout=5
        )
        assert "Access-Control-Allow-Origin" not in stranger.headers
        throttled_view = requests.get(f"{api}/api/v1/auth/me", headers={"Origin": front_end}, timeout=5)
        assert throttled_view.status_code == 401 and throttled_view.headers["Access-Control-Allow-Origin"] == front_end
        assert "Retry-After" in throttled_view.headers["Access-Control-Expose-Headers"]
        admin = requests.options(f"{api}/admin/login/", headers={"Origin": front_end, **asked}, timeout=5)
        assert "Access-Control-Allow-Origin" not in admin.headers  # CORS covers the API only


# The paths Swagger UI loaded (it renders sections as it gets to them, so counting what is on the page
# says little).
LOADED_PATHS = "return typeof ui !== 'undefined' && ui.specSelectors.paths().keySeq().toArray()"


def test_the_api_docs_work_with_no_network(tmp_path):
    with daphne_servers(tmp_path) as (ports, _), chromium(offline=True) as browser:
        base = f"http://127.0.0.1:{ports[0]}"
        browser.get(f"{base}/api-docs")
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
        paths = set(WebDriverWait(browser, 20).until(lambda d: d.execute_script(LOADED_PATHS)))
        assert len(paths) > 50
        assert {"/api/v1/messages", "/api/v1/conversations/{conversation_id}/messages", "/api/v1/auth/login"} <= paths
        assert browser.find_element(By.LINK_TEXT, "AsyncAPI document").get_attribute("href") == f"{base}/api/ws-schema"
        scripts = [
            e.get_attribute("src") for e in browser.find_elements(By.TAG_NAME, "script") if e.get_attribute("src")
        ]
        assert scripts and all(src.startswith(f"{base}/static/") for src in scripts)  # nothing from a CDN
        (ROOT / "artifacts").mkdir(exist_ok=True)
        browser.save_screenshot(str(ROOT / "artifacts" / "api-docs-offline.png"))

        browser.get(f"{base}/api-redoc")
        WebDriverWait(browser, 30).until(
            lambda d: "/api/v1/messages/search" in d.find_element(By.TAG_NAME, "body").text
        )
        assert "Mark every conversation read" in browser.find_element(By.TAG_NAME, "body").text
