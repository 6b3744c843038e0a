from datetime import UTC, datetime

import pytest
import time_machine

from applications.checklist_defaults import ensure_default_checklists
from catalogue.tests.factories import CourseFactory
from leads.tests.factories import LeadFactory
from reports.tests.test_console_browser import browser, server  # noqa: F401 - fixtures of the browser tests here

TODAY = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(request):
    """Intakes are checked against today: every test here runs on 15 March 2027, but for those driving a
    real server process (`REAL_CLOCK` in their module), whose clock a test cannot travel."""
    if getattr(request.module, "REAL_CLOCK", False):
        yield
        return
    with time_machine.travel(TODAY, tick=True):
        yield


@pytest.fixture(autouse=True)
def _default_checklists(request):
    """The migration's default checklists, made again where a transactional test's flush took them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
        ensure_default_checklists()


@pytest.fixture
def course(db):
    return CourseFactory(university__name="University of Leeds", university__country="GB", name="MSc Data Science")


@pytest.fixture
def applicant(student, consultant, office):
    """The office's student, whose lead is the office consultant's."""
    LeadFactory(office=office, student=student, assigned_to=consultant, email=student.email)
    return student
