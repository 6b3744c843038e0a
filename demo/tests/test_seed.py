"""`manage.py seed`: demo data through the services, idempotent per office. The medium and large sizes, and
three offices at a time, are `slow` (seconds to tens of seconds each): `make test` runs them, `make test-fast`
one small seed of one office, on which every check of the small size runs (a seed is ~1.5 s of CPU)."""

from datetime import time

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User
from applications.checklists import checklists_for
from applications.models import Application
from applications.transitions import ApplicationStatus
from appointments.models import Appointment
from catalogue.models import Course
from demo.management.commands.seed import PASSWORD, Diary
from leads.models import Lead
from messaging.models import Conversation, Message
from offices.hours import OfficeHours
from offices.models import Office
from offices.tests.factories import OfficeFactory
from students.models import StudentProfile

pytestmark = pytest.mark.django_db


def test_a_seed_is_idempotent_has_work_to_show_and_logins_that_work(capsys, settings):
    settings.AUTO_CREATE_CONVERSATIONS = True
    call_command("seed", "--offices", "1")
    output = capsys.readouterr()
    # Not a terminal (as in logs): plain lines, no progress-bar escape codes or carriage returns.
    assert "Seeding London leads (12)" in output.out
    assert not any(code in output.out + output.err for code in ("\x1b", "\r"))
    counts = (Office.objects.count(), User.objects.count(), Lead.objects.count(), Message.objects.count())
    assert counts[0] == 1 and counts[2] >= 10 and counts[3] > 0
    roles = {"super_admin", "manager", "consultant", "receptionist", "student"}
    assert set(User.objects.values_list("role", flat=True)) == roles

    # the demo logins: one account per role, each signs in (one seed for both checks: a seed is seconds)
    call_command("demo_logins")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "super admin",
        "manager",
        "consultant",
        "receptionist",
        "student",
    ], lines
    assert PASSWORD in lines[0]
    for line in lines[1:]:
        email = line.split()[-1]
        assert Client().login(email=email, password=PASSWORD), line

    call_command("seed", "--offices", "1")
    assert (Office.objects.count(), User.objects.count(), Lead.objects.count(), Message.objects.count()) == counts
    call_command("seed", "--if-empty")
    assert "not seeding" in capsys.readouterr().out
    assert_something_to_show()  # the small size's (the default): on this seed, not a seed of its own
    # What joining an office sets off (onboarding): the seeded staff each have a conversation with their manager.
    manager = User.objects.get(role=Role.MANAGER)
    staff = User.objects.filter(role__in=[Role.CONSULTANT, Role.RECEPTIONIST])
    assert staff.count() == 3
    for person in staff:
        assert Conversation.objects.filter(direct_key=Conversation.direct_key_for(manager.pk, person.pk)).exists()


def assert_bookable_demo(office_names):
    """What the seed leaves: appointments on working days in office hours, local time, never two of one
    consultant at once (the database would have refused), and a login per role that works."""
    appointments = list(Appointment.objects.select_related("office"))
    assert appointments
    for appointment in appointments:
        local = appointment.start.astimezone(appointment.office.tzinfo)
        assert local.weekday() < 5, local  # Monday to Friday in the office's own calendar
        assert OfficeHours.of(appointment.office).covers(appointment.start, appointment.end), local
    starts = [(a.consultant_id, a.start) for a in appointments]
    assert len(starts) == len(set(starts))
    assert set(Office.objects.values_list("name", flat=True)) == set(office_names)


@pytest.mark.slow  # three offices each (17 s and 42 s on a busy machine): `make test`, not `make test-fast`
@pytest.mark.parametrize(("size", "offices"), [("small", 3), ("medium", 3)])
def test_every_size_seeds(size, offices, time_machine):
    time_machine.move_to("2026-12-04T16:30:00+00:00")  # a Friday afternoon: the next working days are next week's
    call_command("seed", "--size", size, "--offices", str(offices))
    assert_bookable_demo(["London", "Toronto", "Sydney"])
    assert User.objects.filter(role="super_admin").count() == 1


@pytest.mark.slow
def test_the_large_size_seeds_one_office(time_machine):
    """The large size books the most per consultant (where the medium one clashed); one office of it
    keeps the test short, and the other offices only repeat it."""
    time_machine.move_to("2026-12-31T23:59:00+00:00")
    call_command("seed", "--size", "large", "--offices", "1")
    assert_bookable_demo(["London"])
    assert Lead.objects.count() == 120


@pytest.mark.parametrize(
    "moment", ["2026-12-04T18:30:00+00:00", "2026-12-06T00:05:00+11:00", "2026-12-31T23:59:00+00:00"]
)
def test_demo_appointments_fit_any_moment(moment, time_machine):
    time_machine.move_to(moment)
    office = OfficeFactory(name="Sydney", timezone="Australia/Sydney")
    diary = Diary(office=office, now=timezone.now())
    starts = [diary.book(consultant_id=n % 3, preferred=n) for n in range(60)]
    assert len(set(zip([n % 3 for n in range(60)], starts, strict=True))) == 60
    for start in starts:
        local = start.astimezone(office.tzinfo)
        assert local > timezone.now() and local.weekday() < 5 and time(9) <= local.time() <= time(16, 15)


@pytest.mark.slow
def test_the_medium_size_seeds_without_a_double_booking():
    """Its consultants come round again (six per office): each converted student's appointment has a slot
    of its own, or booking the second one would be refused."""
    call_command("seed", "--offices", "1", "--size", "medium")
    assert Lead.objects.count() == 36


@pytest.mark.slow  # the small size's check is the first test's
def test_the_medium_size_gives_the_consultancys_work_something_to_show():
    call_command("seed", "--offices", "1", "--size", "medium")
    assert_something_to_show()


def assert_something_to_show():
    assert Course.objects.count() >= 300
    applications = list(Application.objects.select_related("course"))
    assert {a.status for a in applications} == set(ApplicationStatus.values)
    assert len({a.intake for a in applications}) >= 3
    states = {item.state for checklist in checklists_for(applications).values() for item in checklist.items}
    assert states == {"missing", "pending", "approved", "rejected"}
    assert StudentProfile.objects.exclude(test_scores=[]).exists()
