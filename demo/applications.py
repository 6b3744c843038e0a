"""The seed's consultancy work: the sample catalogue, profiles with scores and wishes, documents whose
review puts checklists in every state, and applications in every status over several intakes, all
through the services (then their history spread over past weeks, so the report's medians mean something)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role, User
from applications.checklist_defaults import ensure_default_checklists
from applications.models import Application, StatusChange
from applications.services import application_open, application_transition
from applications.transitions import ApplicationStatus
from catalogue.importer import catalogue_import
from catalogue.models import Course
from documents.models import DocumentStatus
from documents.services import document_review, document_upload
from students.services import profile_update

S = ApplicationStatus
SAMPLE_CATALOGUE = Path(__file__).resolve().parents[1] / "catalogue" / "data" / "sample_catalogue.csv"

# The moves that take a draft to each status (withdrawn from a draft; the others along the road).
ROADS: dict[str, list[tuple[str, dict]]] = {
    S.DRAFT: [],
    S.SUBMITTED: [(S.SUBMITTED, {})],
    S.REJECTED: [(S.SUBMITTED, {}), (S.REJECTED, {"note": "The course is full this year"})],
    S.CONDITIONAL_OFFER: [(S.SUBMITTED, {}), (S.CONDITIONAL_OFFER, {"offer": {"conditions": "IELTS 7.0 overall"}})],
    S.UNCONDITIONAL_OFFER: [(S.SUBMITTED, {}), (S.UNCONDITIONAL_OFFER, {})],
    S.OFFER_ACCEPTED: [(S.SUBMITTED, {}), (S.UNCONDITIONAL_OFFER, {}), (S.OFFER_ACCEPTED, {})],
    S.WITHDRAWN: [(S.WITHDRAWN, {"note": "Chose to study at home"})],
}
_ALONG = [S.SUBMITTED, S.UNCONDITIONAL_OFFER, S.OFFER_ACCEPTED, S.DEPOSIT_PAID, S.CONFIRMATION_ISSUED, S.VISA_APPLIED]
ROADS[S.DEPOSIT_PAID] = [(s, {}) for s in _ALONG[:4]]
ROADS[S.CONFIRMATION_ISSUED] = [(s, {}) for s in _ALONG[:5]]
ROADS[S.VISA_APPLIED] = [(s, {}) for s in _ALONG]
ROADS[S.VISA_GRANTED] = [*ROADS[S.VISA_APPLIED], (S.VISA_GRANTED, {})]
ROADS[S.VISA_REFUSED] = [*ROADS[S.VISA_APPLIED], (S.VISA_REFUSED, {"note": "Financial evidence judged insufficient"})]
ROADS[S.ENROLLED] = [*ROADS[S.VISA_GRANTED], (S.ENROLLED, {})]

CHECKLIST_KINDS = [
    "passport",
    "transcript",
    "test_score",
    "statement_of_purpose",
    "recommendation",
    "recommendation",
    "cv",
    "financial",
]


def seed_catalogue(actor: User) -> None:
    ensure_default_checklists()  # (a flushed database, as the conformance run's, has none)
    if not Course.objects.exists():
        report = catalogue_import(actor=actor, data=SAMPLE_CATALOGUE.read_bytes())
        assert report.ok, report.errors[:3]


def _intakes(today: date) -> list[date]:
    """The next three January and September intakes."""
    found: list[date] = []
    year = today.year
    while len(found) < 3:
        for month in (1, 9):
            start = date(year, month, 1)
            if start >= today.replace(day=1) and len(found) < 3:
                found.append(start)
        year += 1
    return found


def _profile(student: User, rng: random.Random, today: date) -> None:
    taken = today - timedelta(days=rng.randint(60, 500))
    profile_update(
        actor=student,
        student=student,
        changes={
            "date_of_birth": date(2000 + rng.randint(0, 5), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
            "nationality": rng.choice(["IN", "NG", "PK", "VN", "BR", "KE", "NP"]),
            "passport_number": f"P{rng.randint(1000000, 9999999)}",
            "education": [
                {
                    "level": "bachelor",
                    "institution": "City University",
                    "country": "IN",
                    "grade": str(rng.choice([6.8, 7.5, 8.2, 8.9])),
                    "scale": "10",
                    "year": today.year - 1,
                }
            ],
            "test_scores": [
                {
                    "test": "ielts",
                    "overall": rng.choice(["6.0", "6.5", "7.0", "7.5"]),
                    "taken_on": taken.isoformat(),
                    "sections": {"writing": "6.5", "speaking": "7.0"},
                }
            ],
            "preferences": {
                "countries": rng.sample(["GB", "CA", "AU", "US", "DE", "IE"], 2),
                "levels": ["master"],
                "fields": [rng.choice(["Computer Science", "Data Science", "Business", "Public Health"])],
                "intake": f"{_intakes(today)[0]:%Y-%m}",
                "budget_per_year": str(rng.choice([20000, 25000, 30000])),
                "currency": "GBP",
            },
            "funding": {"sources": ["family"], "amount": "30000", "currency": "GBP"},
        },
    )


def _documents(student: User, reviewer: User, state: str, pdf: bytes) -> None:
    """Checklist documents: all approved ("complete"); or "mixed": the passport rejected, the transcript
    waiting for review, two approved, the rest missing (every item state in one checklist); or none."""
    if state == "missing":
        return
    for n, kind in enumerate(CHECKLIST_KINDS):
        if state == "mixed" and n >= 4:
            return
        document = document_upload(
            actor=student, file=SimpleUploadedFile(f"{kind}.pdf", pdf), kind=kind, student=student
        )
        if state == "mixed" and n == 1:
            continue  # pending
        rejected = state == "mixed" and n == 0
        document_review(
            actor=reviewer,
            document=document,
            status=DocumentStatus.REJECTED if rejected else DocumentStatus.APPROVED,
            note="The scan is cut off: upload the full page" if rejected else "",
        )


def seed_applications(*, office, manager: User, consultants: list[User], pdf: bytes, scale: int) -> None:
    """Every status, in this office, over three intakes; students' checklists complete, mixed (every item
    state) or empty."""
    rng = random.Random(office.pk)
    today = timezone.localdate()
    students = list(User.objects.filter(office=office, role=Role.STUDENT).order_by("id"))
    if not students:
        return
    states = ["complete", "mixed", "missing"]
    for n, student in enumerate(students):
        _profile(student, rng, today)
        _documents(student, manager, states[n % len(states)], pdf)
    intakes = _intakes(today)
    courses = list(Course.objects.filter(is_active=True, intakes__overlap=[1, 9]).order_by("id"))
    statuses = list(S.values) * scale
    for n, status in enumerate(statuses):
        student = students[n % len(students)]
        consultant = next((lead.assigned_to for lead in student.student_leads.all() if lead.assigned_to), None)
        consultant = consultant or consultants[n % len(consultants)]
        intake = intakes[n % len(intakes)]
        course = next(c for c in courses[(n * 7) % len(courses) :] + courses if intake.month in c.intakes)
        if Application.objects.filter(student=student, course=course, intake=intake).exists():
            continue
        application = application_open(
            actor=consultant, student=student, course=course, intake=intake, consultant=consultant
        )
        for to, extra in ROADS[status]:
            data = {"to": to, **extra}
            if to == S.SUBMITTED:
                data.update(override_checklist=True, note="Seeded: submitted before the deadline")
            application = application_transition(actor=manager, application=application, data=data)
        _spread_history(application, rng)


def _spread_history(application: Application, rng: random.Random) -> None:
    """Demo data only: the moves spread over the past weeks, as a real application's would be."""
    changes = list(application.status_history.order_by("created_at", "id"))
    moment = timezone.now()
    for change in reversed(changes):
        StatusChange.objects.filter(pk=change.pk).update(created_at=moment)
        moment -= timedelta(days=rng.randint(3, 21), hours=rng.randint(0, 23))
    Application.objects.filter(pk=application.pk).update(created_at=moment + timedelta(days=1))
