"""The catalogue over REST: who writes, what a student never sees, filters, full-text search through the
stored vector, eligibility in SQL ranked by fit, fixed query counts."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from rest_framework import serializers

from catalogue.api.serializers import CourseSerializer
from catalogue.models import Course, University
from catalogue.selectors import COURSE_PAGE_FIELDS, course_list_for
from catalogue.tests.factories import CourseFactory, UniversityFactory
from students.models import StudentProfile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2027, 3, 15, 10, tzinfo=UTC), tick=True):
        yield


def results(response):
    assert response.status_code == 200, response.json()
    return response.json()["results"]


@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist", "student"])
def test_everyone_reads_staff_alone_see_the_commission(client_for, actors, role):
    university = UniversityFactory(commission_rate=Decimal("12.50"))
    CourseFactory(university=university)
    client = client_for(actors[role])
    listed = results(client.get("/api/v1/universities"))[0]
    one = client.get(f"/api/v1/universities/{university.pk}").json()
    course = results(client.get("/api/v1/courses"))[0]
    if role == "student":
        assert "commission_rate" not in listed and "commission_rate" not in one
    else:
        assert listed["commission_rate"] == one["commission_rate"] == "12.50"
    assert "commission" not in str(course)


@pytest.mark.parametrize(
    "role,status",
    [("super_admin", 201), ("manager", 201), ("consultant", 403), ("receptionist", 403), ("student", 403)],
)
def test_super_admins_and_managers_write(client_for, actors, role, status):
    body = {"name": "University of Bristol", "country": "gb", "city": "Bristol", "partnership": "direct"}
    response = client_for(actors[role]).post("/api/v1/universities", body, format="json")
    assert response.status_code == status
    if status == 201:
        assert response.json()["country"] == "GB"
        again = client_for(actors[role]).post("/api/v1/universities", {**body, "name": "university of bristol"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "duplicate_university"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"country": "XX"}, "country"),
        ({"currency": "ABC"}, "currency"),
        ({"intakes": [0, 13]}, "intakes"),
        ({"intakes": []}, "intakes"),
        ({"requirements": {"min_ielts": "9.5"}}, "requirements"),
        ({"requirements": {"min_ielts": "6.3"}}, "requirements"),
        ({"requirements": {"min_gpa": "5"}}, "requirements"),
        ({"tuition_fee": "-1"}, "tuition_fee"),
        ({"level": "kindergarten"}, "level"),
    ],
)
def test_impossible_courses_are_refused_with_the_field(client_for, manager, change, field):
    university = UniversityFactory()
    body = {
        "university_id": university.pk,
        "name": "BSc Physics",
        "level": "bachelor",
        "field": "Physics",
        "duration_months": 36,
        "tuition_fee": "18000",
        "currency": "GBP",
        "intakes": [9],
        **change,
    }
    if field == "country":
        response = client_for(manager).post("/api/v1/universities", {"name": "X", "country": "XX"}, format="json")
    else:
        response = client_for(manager).post("/api/v1/courses", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]
    assert Course.objects.count() == 0 and University.objects.count() == 1


def test_filters(client_for, student):
    leeds = UniversityFactory(name="University of Leeds", country="GB")
    toronto = UniversityFactory(name="University of Toronto", country="CA", city="Toronto")
    CourseFactory(university=leeds, name="MSc Data Science", field="Data Science", intakes=[9])
    CourseFactory(
        university=toronto,
        name="BSc Nursing",
        level="bachelor",
        field="Nursing",
        tuition_fee=40000,
        currency="CAD",
        intakes=[1, 9],
    )
    CourseFactory(university=leeds, name="Old course", is_active=False)
    client = client_for(student)

    def names(query):
        return [c["name"] for c in results(client.get(f"/api/v1/courses?{query}"))]

    assert names("") == ["MSc Data Science", "BSc Nursing"]  # students never see courses off offer
    assert names("country=CA") == ["BSc Nursing"]
    assert names("level=master") == ["MSc Data Science"]
    assert names("intake=1") == ["BSc Nursing"]
    assert names("max_tuition=30000") == ["MSc Data Science"]
    assert names("field=nurs") == ["BSc Nursing"]
    for bad in ("intake=13", "country=Narnia", "level=x", "max_tuition=lots", "eligible_for=abc"):
        assert client.get(f"/api/v1/courses?{bad}").status_code == 400, bad


def test_full_text_search_through_the_stored_vector(client_for, student, manager):
    leeds = UniversityFactory(name="University of Leeds", city="Leeds")
    CourseFactory(university=leeds, name="MSc Computer Science", field="Computing")
    CourseFactory(university=leeds, name="MA History", field="History", level="master")
    other = CourseFactory(name="BSc Biology", field="Biology", level="bachelor")
    client = client_for(student)
    assert [c["name"] for c in results(client.get("/api/v1/courses?q=comp sci"))] == ["MSc Computer Science"]
    assert len(results(client.get("/api/v1/courses?q=leeds"))) == 2  # the university's name counts
    assert results(client.get("/api/v1/courses?q=%27%26%7C!()")) == []  # only punctuation: nothing, not a 500
    # the vector follows a rename, whichever door made it
    client_for(manager).patch(f"/api/v1/universities/{other.university_id}", {"name": "Leeds Beckett"}, format="json")
    assert len(results(client.get("/api/v1/courses?q=leeds"))) == 3
    assert Course.objects.filter(search_vector__isnull=True).count() == 0


def profile(student, **fields):
    StudentProfile.objects.update_or_create(student=student, defaults=fields)


def test_eligible_for_meets_requirements_with_valid_scores_and_ranks_by_fit(client_for, student, consultant):
    profile(
        student,
        test_scores=[
            {"test": "ielts", "overall": "6.5", "sections": {}, "taken_on": "2026-01-10"},
            {"test": "toefl", "overall": "110", "sections": {}, "taken_on": "2024-01-01"},  # expired: 2026-01-01
        ],
        education=[
            {"level": "bachelor", "institution": "X", "country": "IN", "grade": "3.2", "scale": "4", "year": 2025}
        ],
        preferences={
            "countries": ["CA"],
            "levels": ["master"],
            "fields": ["data"],
            "intake": "2027-09",
            "budget_per_year": "25000",
            "currency": "CAD",
        },
    )
    ca = UniversityFactory(country="CA", name="UBC")
    gb = UniversityFactory(country="GB", name="Leeds")
    best = CourseFactory(
        university=ca,
        name="MDS",
        field="Data Science",
        currency="CAD",
        tuition_fee=24000,
        min_ielts=Decimal("6.5"),
        min_gpa=Decimal("3.0"),
    )
    good = CourseFactory(university=gb, name="MSc Data", field="Data Science", min_ielts=Decimal("6.0"))
    CourseFactory(university=gb, name="Too hard", min_ielts=Decimal("7.0"))
    CourseFactory(university=gb, name="TOEFL only", min_toefl=100)  # the TOEFL result expired
    CourseFactory(university=gb, name="High GPA", min_gpa=Decimal("3.5"))
    CourseFactory(university=gb, name="January only", intakes=[1])
    open_to_all = CourseFactory(university=gb, name="No requirements", field="History", level="bachelor")
    found = results(client_for(consultant).get(f"/api/v1/courses?eligible_for={student.pk}"))
    assert [(c["name"], c["fit"]) for c in found] == [("MDS", 10), ("MSc Data", 5), ("No requirements", 0)]
    assert {c["id"] for c in found} == {best.pk, good.pk, open_to_all.pk}
    # the student may ask for themself; nobody may ask for a student they cannot see
    assert len(results(client_for(student).get(f"/api/v1/courses?eligible_for={student.pk}"))) == 3


def test_eligible_for_a_hidden_student_is_404(client_for, other_consultant, student, receptionist):
    assert client_for(other_consultant).get(f"/api/v1/courses?eligible_for={student.pk}").status_code == 404
    assert client_for(receptionist).get(f"/api/v1/courses?eligible_for={receptionist.pk}").status_code == 404


@pytest.mark.parametrize("query", ["", "q=science", "eligible_for={student}", "q=science&eligible_for={student}"])
def test_course_lists_run_a_fixed_number_of_queries(client_for, student, django_assert_num_queries, query):
    profile(student, test_scores=[{"test": "ielts", "overall": "7.0", "sections": {}, "taken_on": "2026-06-01"}])
    for n in range(4):
        CourseFactory(name=f"MSc Science {n}", field="Science")
    client = client_for(student)
    url = f"/api/v1/courses?{query.format(student=student.pk)}&limit=2"
    queries = 3 if "eligible_for" in query else 2  # the user (token); the student and profile; the page
    with django_assert_num_queries(queries):
        body = client.get(url).json()
    assert len(body["results"]) == 2 and body["next"]
    assert len(client.get(body["next"]).json()["results"]) == 2


def test_a_course_with_applications_is_deactivated_not_deleted(client_for, manager):
    course = CourseFactory()
    assert client_for(manager).delete(f"/api/v1/courses/{course.pk}").status_code == 204
    university = UniversityFactory()
    CourseFactory(university=university)
    refused = client_for(manager).delete(f"/api/v1/universities/{university.pk}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "university_in_use"


def test_the_universities_list_runs_a_fixed_number_of_queries(client_for, consultant, django_assert_num_queries):
    for n in range(4):
        CourseFactory(university=UniversityFactory(name=f"University {n}"))
    client = client_for(consultant)
    with django_assert_num_queries(2):  # the user (token); the page with its course counts
        body = client.get("/api/v1/universities?limit=3").json()
    assert len(body["results"]) == 3 and body["results"][0]["course_count"] == 1 and body["next"]


def test_a_course_page_reads_as_the_declared_fields_would_write_it(client_for, consultant):
    """`CourseSerializer.to_representation` builds the row directly (the page's per-row Python): the same
    keys in the same order, values and formats as DRF's walk over the declared fields, nulls included."""
    CourseFactory(min_ielts=Decimal("6.5"), min_toefl=90, min_pte=58, min_gpa=Decimal("3.25"), intakes=[1, 9],
                  requirement_notes="A portfolio", tuition_fee=Decimal("12345.5"))  # fmt: skip
    CourseFactory(min_ielts=None, min_toefl=None, min_pte=None, min_gpa=None, university__country="CA")
    page = list(course_list_for(consultant).only(*COURSE_PAGE_FIELDS).order_by("id"))
    page[0].fit = 7
    direct = CourseSerializer(page, many=True).data
    walked = [serializers.ModelSerializer.to_representation(CourseSerializer(), course) for course in page]
    assert [list(row.items()) for row in direct] == [list(row.items()) for row in walked]
    assert direct[0]["tuition_fee"] == "12345.50" and direct[0]["requirements"]["min_gpa"] == "3.25"
    assert direct[1]["university"]["country"] == "CA" and direct[1]["fit"] is None
    listed = results(client_for(consultant).get("/api/v1/courses"))
    assert {row["id"] for row in listed} == {course.pk for course in page}
