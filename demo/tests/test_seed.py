"""`manage.py seed`: demo data through the services, idempotent per office (what joining an office sets
off for the seeded staff: onboarding/tests)."""

import pytest
from django.core.management import call_command

from accounts.models import User
from leads.models import Lead
from messaging.models import Message
from offices.models import Office

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(capsys):
    call_command("seed", "--offices", "1")
    output = capsys.readouterr()
    # Not a terminal (as in logs): plain lines, no progress-bar escape codes or carriage returns.
    assert "Seeding London leads (12)" in output.out
    assert not any(code in output.out + output.err for code in ("\x1b", "\r"))
    counts = (Office.objects.count(), User.objects.count(), Lead.objects.count(), Message.objects.count())
    assert counts[0] == 1 and counts[2] >= 10 and counts[3] > 0
    assert set(User.objects.values_list("role", flat=True)) == {"manager", "consultant", "receptionist", "student"}
    call_command("seed", "--offices", "1")
    assert (Office.objects.count(), User.objects.count(), Lead.objects.count(), Message.objects.count()) == counts
    call_command("seed", "--if-empty")
    assert "not seeding" in capsys.readouterr().out


def test_the_medium_size_seeds_without_a_double_booking():
    """Its consultants come round again (six per office): each converted student's appointment has a slot
    of its own, or booking the second one would be refused."""
    call_command("seed", "--offices", "1", "--size", "medium")
    assert Lead.objects.count() == 36
