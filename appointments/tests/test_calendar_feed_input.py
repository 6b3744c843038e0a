"""The console calendar's events feed takes its range from FullCalendar's query string: a range no
calendar has (an offset of 99 hours, year 1 an hour west of Greenwich, year 9999 an hour east, a
month 13) is 400 in the one error shape, never a 500."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

EVENTS = "/admin/appointments/appointment/calendar/events"

BAD_RANGES = [
    ("2026-01-01T00:00:00+99:00", "2026-01-08T00:00:00+00:00"),  # the issue's
    ("2026-01-01T00:00:00+00:00", "2026-01-08T00:00:00-99:00"),
    ("0001-01-01T00:00:00-01:00", "0001-01-08T00:00:00-01:00"),
    ("9999-12-31T00:00:00+00:00", "9999-12-31T23:59:59-23:59"),
    ("0001-01-01T00:00:00+00:00", "0001-01-08T00:00:00+00:00"),
    ("2026-13-01T00:00:00", "2026-13-08T00:00:00"),
    ("2026-01-01T25:00:00", "2026-01-02T00:00:00"),
    ("2026-01-01\x00", "2026-01-08"),
    ("99999-01-01T00:00:00", "99999-01-08T00:00:00"),
]


@pytest.mark.parametrize(("start", "end"), BAD_RANGES)
@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist"])
def test_a_range_no_calendar_has_is_400_in_the_one_shape(actors, office, role, start, end):
    browser = Client(raise_request_exception=False)
    browser.force_login(actors[role])
    answer = browser.get(EVENTS, {"start": start, "end": end, "office": office.pk})
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert set(body["error"]) == {"code", "message", "details"} and body["error"]["code"] == "validation_error"


def test_a_good_range_still_answers(actors, office):
    browser = Client()
    browser.force_login(actors["manager"])
    answer = browser.get(EVENTS, {"start": "2026-01-05T00:00:00+00:00", "end": "2026-01-12T00:00:00+00:00"})
    assert answer.status_code == 200 and answer.json() == []
