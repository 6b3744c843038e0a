"""reports/applications: who may read it, and numbers that add up: the report of each consultant, each
destination, each intake sums to the whole, and so do the breakdown rows."""

from decimal import Decimal

import pytest

from accounts.tests.factories import ConsultantFactory, StudentFactory
from applications.models import Application
from applications.services import application_open, application_transition
from catalogue.tests.factories import CourseFactory, UniversityFactory
from study.vocabulary import parse_intake

pytestmark = pytest.mark.django_db

PATHS = {
    "draft": [],
    "withdrawn": [("withdrawn", {"note": "Changed plans"})],
    "rejected": [("submitted", {}), ("rejected", {"note": "Full"})],
    "offer": [("submitted", {}), ("conditional_offer", {"offer": {"conditions": "IELTS 7"}})],
    "visa_refused": [
        ("submitted", {}),
        ("unconditional_offer", {}),
        ("offer_accepted", {}),
        ("deposit_paid", {}),
        ("confirmation_issued", {}),
        ("visa_applied", {}),
        ("visa_refused", {"note": "Funds"}),
    ],
    "enrolled": [
        ("submitted", {}),
        ("unconditional_offer", {}),
        ("offer_accepted", {}),
        ("deposit_paid", {}),
        ("confirmation_issued", {}),
        ("visa_applied", {}),
        ("visa_granted", {}),
        ("enrolled", {}),
    ],
}


@pytest.fixture
def book(office, other_office, manager, consultant, super_admin):
    """Applications over two offices, three consultants, two destinations, two intakes and every path."""
    second = ConsultantFactory(office=office)
    far = ConsultantFactory(office=other_office)
    gb = CourseFactory(
        university=UniversityFactory(country="GB", commission_rate=10), tuition_fee=20000, intakes=[1, 9]
    )
    ca = CourseFactory(
        university=UniversityFactory(country="CA", commission_rate=15),
        tuition_fee=30000,
        currency="CAD",
        intakes=[1, 9],
    )
    nopartner = CourseFactory(university=UniversityFactory(partnership="none", commission_rate=0), intakes=[1, 9])
    made = []
    for n, (_name, steps) in enumerate(sorted(PATHS.items()) * 3):
        handler = (consultant, second, far)[n % 3]
        student = StudentFactory(office=handler.office)
        application = application_open(
            actor=super_admin,
            student=student,
            course=(gb, ca, nopartner)[n % 3 if n % 4 else 0],
            intake=parse_intake(("2099-01", "2099-09")[n % 2]),
            consultant=handler,
        )
        for to, extra in steps:
            data = {"to": to, **extra}
            if to == "submitted":
                data.update(override_checklist=True, note="Test data")
            application = application_transition(actor=super_admin, application=application, data=data)
        made.append(application)
    return {"consultants": [consultant, second, far], "applications": made}


def report(client, **query):
    response = client.get("/api/v1/reports/applications", query)
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.parametrize(
    "role,status",
    [("super_admin", 200), ("manager", 200), ("consultant", 403), ("receptionist", 403), ("student", 403)],
)
def test_who_reads_it(client_for, actors, role, status):
    assert client_for(actors[role]).get("/api/v1/reports/applications").status_code == status


def test_another_office_or_its_consultant_is_not_found(client_for, manager, other_office, other_consultant):
    client = client_for(manager)
    assert client.get(f"/api/v1/reports/applications?office={other_office.pk}").status_code == 404
    assert client.get(f"/api/v1/reports/applications?consultant={other_consultant.pk}").status_code == 404
    assert client.get("/api/v1/reports/applications?intake=2099-13").status_code == 400
    assert client.get("/api/v1/reports/applications?country=XX").status_code == 400


def test_the_parts_add_up_to_the_whole_and_a_manager_reads_their_office(
    client_for, super_admin, manager, office, book, django_assert_max_num_queries
):
    """Both on one book (building it is ~1 s: a dozen applications, each moved through the services)."""
    client = client_for(super_admin)
    with django_assert_max_num_queries(11):
        whole = report(client)
    assert whole["total"] == Application.objects.count() == len(book["applications"])
    assert sum(whole["by_status"].values()) == whole["total"]
    for section in ("by_office", "by_consultant", "by_country", "by_intake"):
        assert sum(row["total"] for row in whole[section]) == whole["total"], section
        for status in whole["by_status"]:
            assert sum(row[status] for row in whole[section]) == whole["by_status"][status], (section, status)
    parts = [report(client, consultant=c.pk) for c in book["consultants"]]
    assert sum(p["total"] for p in parts) == whole["total"]
    for status, n in whole["by_status"].items():
        assert sum(p["by_status"][status] for p in parts) == n
    for key in ("intake", "country"):
        values = [row[key] for row in whole[f"by_{key}"]]
        assert sum(report(client, **{key: v})["total"] for v in values) == whole["total"]

    def money(rows):
        totals: dict = {}
        for row in rows:
            key = (row["intake"], row["currency"])
            totals[key] = totals.get(key, Decimal(0)) + Decimal(row["expected"])
        return totals

    expected = money(whole["expected_commission"])
    from_parts = money([row for p in parts for row in p["expected_commission"]])
    assert expected.keys() == from_parts.keys()
    for key, amount in expected.items():
        assert abs(amount - from_parts[key]) <= Decimal("0.01") * len(parts), key  # rounding of each part
    # 3 of each path: offers reached by offer, visa_refused and enrolled (9 of 12 decided); visas 3 of 6
    assert whole["offer_rate"] == round(9 / 12, 4) and whole["visa_success_rate"] == 0.5
    assert {(m["from"], m["to"]) for m in whole["median_days"]} >= {
        ("draft", "submitted"),
        ("visa_granted", "enrolled"),
    }

    # A manager's report is their office's, and downloads as CSV.
    mine = report(client_for(manager))
    assert mine["scope"]["office_id"] == office.pk
    assert mine["total"] == sum(1 for a in book["applications"] if a.office_id == office.pk)
    response = client_for(manager).get("/api/v1/reports/applications?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "section,key,field,value" and f"total,,,{mine['total']}" in lines
