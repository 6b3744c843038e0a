"""The test run's clock: `CRM_TEST_CLOCK=2026-12-04T16:30:00+00:00 make test` runs every test as if
that were the moment the run started, the clock ticking on from there (time-machine).

The travel starts when `crm_project.settings.test` is imported, so it holds in every process of the
run: pytest itself, and the live servers, daphne workers and `manage.py` children that tests start
with the test settings (they inherit the environment). The first process notes the real time it
started at (`CRM_TEST_CLOCK_SINCE`); a child travels to the same destination plus the real time
elapsed since, so all processes of one run read the same clock.

A browser a test drives gets the run's clock too (`travel_browser(driver)`: every page's `Date`
starts where the servers' clock is). A test that needs a moment of its own still travels
(`time_machine.travel(...)` or the `time_machine` fixture): it moves from the run's clock to its own
and back. Not travelled: the monotonic clock (timeouts keep working), PostgreSQL's `now()` and Redis'
own clock (the code reads time in Python only).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import time_machine
from django.core.exceptions import ImproperlyConfigured

CLOCK = "CRM_TEST_CLOCK"
SINCE = "CRM_TEST_CLOCK_SINCE"  # real epoch seconds when the run's first process started travelling

_started: datetime | None = None


def parse(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ImproperlyConfigured(
            f"{CLOCK} must be an ISO 8601 date-time with its offset, e.g. 2026-12-04T16:30:00+00:00"
        )
    return moment


def travel_from_environment() -> datetime | None:
    """Start travelling to CRM_TEST_CLOCK (ticking), once per process; the destination, or None when unset."""
    global _started
    value = os.environ.get(CLOCK, "")
    if _started is not None or not value.strip():
        return _started
    destination = parse(value)
    real_now = time.time()  # not yet travelling: the real clock
    since = float(os.environ.setdefault(SINCE, repr(real_now)))  # children inherit the first process's
    time_machine.travel(destination + timedelta(seconds=real_now - since), tick=True).start()
    _started = destination
    return destination


def travelling_to() -> datetime | None:
    """The run's clock as CRM_TEST_CLOCK set it (None: the real clock)."""
    return _started


# Every page's Date reads the run's clock: `new Date()` and `Date.now()` shifted, the rest as it was.
_BROWSER_CLOCK = """(() => {
  const offset = %d, RealDate = Date;
  class TravelledDate extends RealDate {
    constructor(...args) { super(...(args.length ? args : [RealDate.now() + offset])); }
    static now() { return RealDate.now() + offset; }
  }
  globalThis.Date = new Proxy(TravelledDate, { apply: () => new TravelledDate().toString() });
})();"""


def travel_browser(driver) -> None:
    """Give a Chromium driven by selenium the run's clock (nothing when the clock is the real one);
    call it before the first page loads."""
    if _started is None:
        return
    offset_ms = round((time.time() - time_machine.escape_hatch.time.time()) * 1000)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _BROWSER_CLOCK % offset_ms})
