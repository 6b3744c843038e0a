"""Seed data around the applications (issue 22): living costs, a routing rule per office, proposals and tasks,
all through the services."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import Role, User
from catalogue.models import Course
from core.errors import ApplicationError
from followups.models import Task
from followups.services import task_create
from leads.models import Lead, LeadRoutingRule
from leads.routing import routing_rule_save
from proposals.models import LivingCost
from proposals.services import proposal_create, proposal_send

LIVING_COSTS = {"GB": ("12000", "GBP"), "AU": ("21000", "AUD"), "CA": ("20000", "CAD"), "US": ("18000", "USD")}


def seed_around(*, office, manager: User, consultants: list[User]) -> None:
    for country, (amount, currency) in LIVING_COSTS.items():
        LivingCost.objects.get_or_create(country=country, defaults={"amount": Decimal(amount), "currency": currency})
    if consultants and not LeadRoutingRule.objects.filter(office=office).exists():
        routing_rule_save(
            actor=manager,
            data={
                "office_id": office.pk,
                "order": 1,
                "name": "Walk-ins in turn",
                "conditions": {"sources": ["walk_in"]},
                "round_robin": [c.pk for c in consultants],
            },
        )
    now = timezone.now()
    for consultant in consultants:
        for lead in Lead.objects.filter(assigned_to=consultant).order_by("id")[:2]:
            if Task.objects.filter(lead=lead).exists():
                continue
            for hours, title in ((-3, "Call back about the intake"), (20, "Send the shortlist")):
                task_create(actor=consultant, title=title, due_at=now + timedelta(hours=hours), lead_id=lead.pk)
    courses = list(Course.objects.filter(is_active=True).order_by("id")[:20])
    students = User.objects.filter(office=office, role=Role.STUDENT, proposals__isnull=True).order_by("id")[:3]
    for student in students:
        found = student.student_leads.filter(assigned_to__isnull=False).first()
        if found is None or found.assigned_to is None:
            continue
        today = timezone.localdate()
        items = []
        for course in courses:
            month = next((m for m in sorted(course.intakes) if m > today.month), None)
            year = today.year if month else today.year + 1
            items.append({"course_id": course.pk, "intake": f"{year}-{month or min(course.intakes):02d}", "note": ""})
            if len(items) == 3:
                break
        try:
            proposal = proposal_create(
                actor=found.assigned_to,
                student=student,
                items=items,
                message="Three courses that fit your profile and budget.",
                expires_at=now + timedelta(days=14),
            )
            proposal_send(actor=found.assigned_to, proposal=proposal)
        except ApplicationError:
            continue
