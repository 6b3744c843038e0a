"""`manage.py import_catalogue`: upserts by natural key, reports each bad row's column and reason, and
writes nothing when a row is bad; the sample catalogue the seed uses imports cleanly."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalogue.importer import catalogue_import
from catalogue.models import Course, University
from catalogue.tests.factories import CourseFactory, UniversityFactory
from core.errors import Forbidden

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_catalogue.csv"
HEADER = (
    "university,country,city,partnership,commission_rate,course,level,field,duration_months,tuition_fee,currency,"
    "intakes,min_ielts\n"
)


def test_the_sample_catalogue_is_realistic_and_imports(super_admin, capsys):
    call_command("import_catalogue", str(SAMPLE))
    assert University.objects.count() >= 40 and Course.objects.count() >= 300
    assert University.objects.values("country").distinct().count() >= 6
    assert Course.objects.values("currency").distinct().count() >= 5
    assert "universities 45 new" in capsys.readouterr().out
    call_command("import_catalogue", str(SAMPLE))  # again: everything known, nothing changed
    assert "courses 0 new, 0 updated" in capsys.readouterr().out


def test_rows_upsert_by_natural_key(super_admin):
    leeds = UniversityFactory(name="University of Leeds", country="GB", city="", commission_rate=5)
    course = CourseFactory(university=leeds, name="MSc Data Science", level="master", tuition_fee=10)
    data = (
        HEADER
        + "university of leeds,GB,Leeds,direct,15,MSc Data Science,master,Data Science,12,27500,GBP,Sep;Jan,6.5\n"
        + "University of Leeds,gb,Leeds,direct,15,MSc Data Science,phd,Data Science,48,5000,GBP,9,7.0\n"
    )
    report = catalogue_import(actor=super_admin, data=data.encode())
    assert report.ok and report.written
    assert (report.universities_created, report.universities_updated) == (0, 1)
    assert (report.courses_created, report.courses_updated) == (1, 1)
    course.refresh_from_db()
    leeds.refresh_from_db()
    assert course.tuition_fee == 27500 and course.intakes == [1, 9] and str(course.min_ielts) == "6.5"
    assert leeds.city == "Leeds" and leeds.commission_rate == 15


def test_one_bad_row_writes_nothing_and_each_problem_is_reported(super_admin):
    data = (
        HEADER
        + "Good University,GB,London,direct,10,BSc A,bachelor,A,36,9000,GBP,9,6.0\n"
        + "Bad University,XX,London,direct,10,BSc B,bachelor,B,36,-1,ABC,13,9.5\n"
        + "Good University,GB,Leeds,direct,10,BSc C,bachelor,C,36,9000,GBP,9,6.0\n"
        + "Good University,GB,London,direct,10,BSc A,bachelor,A,36,9000,GBP,9,6.0,extra\n"
    )
    report = catalogue_import(actor=super_admin, data=data.encode())
    assert not report.written and University.objects.count() == 0 and Course.objects.count() == 0
    found = {(e.row, e.column) for e in report.errors}
    assert {(3, "country"), (3, "tuition_fee"), (3, "currency"), (3, "intakes"), (3, "min_ielts")} <= found
    assert (4, "city") in found  # the same university, told differently
    assert (5, "") in found  # more cells than columns


def test_the_command_reports_rows_and_fails(super_admin, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "X,GB,London,direct,10,BSc,bachelor,A,36,lots,GBP,9,6.0\n")
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_catalogue", str(bad))
    assert "row 2, tuition_fee:" in capsys.readouterr().err
    (tmp_path / "cols.csv").write_text("name,country\nX,GB\n")
    with pytest.raises(CommandError, match="missing"):
        call_command("import_catalogue", str(tmp_path / "cols.csv"))


@pytest.mark.parametrize("role", ["consultant", "receptionist", "student"])
def test_only_catalogue_writers_import(actors, role):
    with pytest.raises(Forbidden):
        catalogue_import(actor=actors[role], data=SAMPLE.read_bytes())
