from datetime import UTC, datetime

import pytest
import time_machine

from applications.checklist_defaults import ensure_default_checklists
from catalogue.tests.factories import CourseFactory
from leads.tests.factories import LeadFactory

TODAY = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(request):
    """Intakes and expiries are read against today: 15 March 2027, ticking."""
    with time_machine.travel(TODAY, tick=True):
        yield


@pytest.fixture(autouse=True)
def _default_checklists(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
        ensure_default_checklists()


@pytest.fixture
def courses(db):
    """Two courses without requirements (anyone is eligible) and one asking IELTS 7.5."""
    return [
        CourseFactory(university__name="Leeds", university__country="GB", name="MSc Data Science", intakes=[9]),
        CourseFactory(university__name="Monash", university__country="AU", name="MIT", intakes=[7, 2], currency="AUD"),
        CourseFactory(university__name="Toronto", university__country="CA", name="MEng", intakes=[9], min_ielts="7.5"),
    ]


@pytest.fixture
def applicant(student, consultant, office):
    LeadFactory(office=office, student=student, assigned_to=consultant, email=student.email)
    return student
