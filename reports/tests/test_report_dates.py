"""Report dates the calendar cannot count (year 1 minus a month, year 9999 plus a day) are bad input:
400 `invalid_date` in the one error shape over the API, the console's 400 page on the dashboard,
never an OverflowError's 500."""

import pytest
from django.test import Client

from reports.selectors import REPORTS

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = [
    "date_to=0001-01-01",
    "date_to=9999-12-31",
    "date_from=0001-01-01",
    "date_from=9999-12-31",
    "date_from=9999-12-01&date_to=9999-12-31",
    "date_from=0001-01-01&date_to=0001-01-20",
    "date_to=1899-12-31",
    "date_from=3000-01-01&date_to=3000-01-02",
]


@pytest.mark.parametrize("query", OUT_OF_RANGE)
@pytest.mark.parametrize("report", sorted(REPORTS))
def test_the_api_answers_400_in_the_one_shape(client_for, manager, report, query):
    api = client_for(manager)
    api.raise_request_exception = False
    answer = api.get(f"/api/v1/reports/{report}?{query}")
    assert answer.status_code == 400, answer.content
    error = answer.json()["error"]
    assert error["code"] == "invalid_date" and "1900-01-01" in error["message"] and error["details"]
    assert api.get(f"/api/v1/reports/{report}?{query}&format=csv").status_code == 400


@pytest.mark.parametrize("query", OUT_OF_RANGE)
@pytest.mark.parametrize("role", ["super_admin", "manager"])
def test_the_dashboard_answers_its_400_page(actors, role, query):
    browser = Client(raise_request_exception=False)
    browser.force_login(actors[role])
    page = browser.get(f"/admin/reports/?{query}")
    assert page.status_code == 400
    assert "1900-01-01" in page.content.decode() and 'id="refusal"' in page.content.decode()


def test_the_widest_range_still_reports(client_for, manager):
    answer = client_for(manager).get("/api/v1/reports/leads?date_from=2999-01-01&date_to=2999-12-31")
    assert answer.status_code == 200 and answer.json()["scope"]["date_to"] == "2999-12-31"
