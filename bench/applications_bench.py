"""Catalogue and application benchmarks: p50/p95 of `courses?eligible_for=`, `courses?q=` over 20,000 courses
and of the console's application board with 5,000 applications in one office, through the real views
(in-process Django client, the request path minus the socket). Prints figures; not a test.

Usage: python bench/applications_bench.py [--courses N] [--applications N] [--runs N]
Run against a database of its own (it adds its data once, tagged, and reuses it): see bench/README.md.
"""

import argparse
import os
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings.dev")
os.environ.setdefault("RATE_LIMIT_MAX_REQUESTS", "100000000")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from applications.models import Application, StatusChange  # noqa: E402
from applications.transitions import ApplicationStatus  # noqa: E402
from catalogue.models import Course, University  # noqa: E402
from offices.models import Office  # noqa: E402
from students.models import StudentProfile  # noqa: E402

TAG = "Bench"
PASSWORD = "bench-Pass-2024"
COUNTRIES = [("GB", "GBP"), ("US", "USD"), ("CA", "CAD"), ("AU", "AUD"), ("DE", "EUR"), ("IE", "EUR"), ("NZ", "NZD")]
FIELDS = [
    "Computer Science",
    "Data Science",
    "Business",
    "Nursing",
    "Law",
    "Education",
    "Civil Engineering",
    "Public Health",
    "Mechanical Engineering",
    "Marketing",
    "Finance",
    "Psychology",
    "Architecture",
]
LEVELS = ["bachelor", "master", "phd", "diploma", "foundation", "certificate"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def build(courses: int, applications: int) -> tuple[User, User, User]:
    rng = random.Random(5)
    office, _ = Office.objects.get_or_create(name=f"{TAG} office", defaults={"timezone": "UTC"})
    manager, _ = User.objects.get_or_create(
        email="bench.manager@example.com", defaults={"role": Role.MANAGER, "office": office}
    )
    manager.set_password(PASSWORD)
    manager.save()
    consultant, _ = User.objects.get_or_create(
        email="bench.consultant@example.com", defaults={"role": Role.CONSULTANT, "office": office}
    )
    student, _ = User.objects.get_or_create(
        email="bench.student@example.com", defaults={"role": Role.STUDENT, "office": office}
    )
    StudentProfile.objects.update_or_create(
        student=student,
        defaults={
            "test_scores": [
                {"test": "ielts", "overall": "7.0", "sections": {}, "taken_on": f"{timezone.localdate().year}-01-05"}
            ],
            "education": [
                {"level": "bachelor", "institution": "X", "country": "IN", "grade": "3.4", "scale": "4", "year": 2024}
            ],
            "preferences": {
                "countries": ["GB", "CA"],
                "levels": ["master"],
                "fields": ["Data"],
                "intake": f"{timezone.localdate().year + 1}-09",
                "budget_per_year": "30000",
                "currency": "GBP",
            },
        },
    )
    have = Course.objects.filter(university__name__startswith=TAG).count()
    if have < courses:
        started = time.monotonic()
        with transaction.atomic():
            universities = University.objects.bulk_create(
                [
                    University(
                        name=f"{TAG} University {n}",
                        country=COUNTRIES[n % 7][0],
                        city=f"City {n}",
                        partnership="direct",
                        commission_rate=Decimal(15),
                    )
                    for n in range(have // 40, courses // 40 + 1)
                ]
            )
            made = []
            for n in range(have, courses):
                university = universities[(n - have) // 40 % len(universities)]
                field = FIELDS[n % len(FIELDS)]
                made.append(
                    Course(
                        university=university,
                        name=f"{rng.choice(['MSc', 'MA', 'BSc', 'PhD', 'Diploma'])} {field} {n}",
                        level=LEVELS[n % len(LEVELS)],
                        field=field,
                        duration_months=12,
                        tuition_fee=Decimal(rng.randrange(8000, 45000, 50)),
                        currency=dict(COUNTRIES)[university.country],
                        intakes=sorted({rng.choice([1, 2, 9]), rng.choice([5, 7, 9, 10])}),
                        min_ielts=Decimal(rng.choice(["5.5", "6.0", "6.5", "7.0", "7.5"])),
                        min_toefl=rng.choice([None, 80, 90, 100]),
                        min_gpa=rng.choice([None, Decimal("2.8"), Decimal("3.0"), Decimal("3.5")]),
                    )
                )
            Course.objects.bulk_create(made, batch_size=2000)
        print(f"built {courses - have} courses in {time.monotonic() - started:.1f} s")
    have = Application.objects.filter(office=office).count()
    if have < applications:
        started = time.monotonic()
        course_ids = list(Course.objects.values_list("id", flat=True)[:5000])
        students = User.objects.bulk_create(
            [User(email=f"bench.s{n}@example.com", role=Role.STUDENT, office=office) for n in range(have, applications)]
        )
        statuses = ApplicationStatus.values
        with transaction.atomic():
            opened = Application.objects.bulk_create(
                [
                    Application(
                        student=s,
                        course_id=course_ids[n % len(course_ids)],
                        intake=date(2030 + n % 3, (1, 9)[n % 2], 1),
                        consultant=consultant,
                        office=office,
                        status=statuses[n % len(statuses)],
                        destination="GB",
                    )
                    for n, s in enumerate(students)
                ],
                batch_size=2000,
            )
            StatusChange.objects.bulk_create(
                [StatusChange(application=a, from_status="", to_status=a.status, actor=consultant) for a in opened],
                batch_size=2000,
            )
        print(f"built {applications - have} applications in {time.monotonic() - started:.1f} s")
    # What autovacuum does in production (it is off on the shared bench machine): statistics for every table
    # the bench wrote (stale ones on accounts_user planned the board's cards as a hash of all 5,000 students),
    # and the visibility map the board's index-only counts read. (VACUUM runs outside a transaction, one a call.)
    with connection.cursor() as cursor:
        for table in ("catalogue_course", "catalogue_university", "applications_application", "accounts_user"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    return manager, consultant, student


def measure(label, client, url, runs, **headers):
    for _ in range(3):  # warm
        assert client.get(url, **headers).status_code == 200
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    print(f"{label:<48} p50 {pct(samples, 50):6.1f} ms   p95 {pct(samples, 95):6.1f} ms   (n={runs})")
    return pct(samples, 95)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--courses", type=int, default=20_000)
    parser.add_argument("--applications", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    manager, consultant, student = build(args.courses, args.applications)
    print(f"{Course.objects.count()} courses, {Application.objects.filter(office=manager.office).count()} applications")
    api = Client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {RefreshToken.for_user(consultant).access_token}"}
    measure("GET courses (a page of 50, no filter: the baseline)", api, "/api/v1/courses", args.runs, **bearer)
    results = {
        "eligible_for": measure(
            "GET courses?eligible_for=<student>", api, f"/api/v1/courses?eligible_for={student.pk}", args.runs, **bearer
        ),
        "q": measure("GET courses?q=data science", api, "/api/v1/courses?q=data%20science", args.runs, **bearer),
        "q+eligible_for": measure(
            "GET courses?q=business&eligible_for=<student>",
            api,
            f"/api/v1/courses?q=business&eligible_for={student.pk}",
            args.runs,
            **bearer,
        ),
    }
    console = Client()
    assert console.login(email=manager.email, password=PASSWORD)
    results["board"] = measure(
        "console application board (5,000)", console, "/admin/applications/application/board/", args.runs
    )
    print("target p95 <= 50 ms:", ", ".join(f"{k} {'ok' if v <= 50 else 'OVER'}" for k, v in results.items()))


if __name__ == "__main__":
    main()
