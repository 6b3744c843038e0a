"""Writes on student profiles, and the student's timeline entries that other apps (applications) write."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import MANAGING_ROLES, Role, User
from core.errors import Forbidden, ValidationFailed
from leads.models import Activity, ActivityKind
from leads.services import activity_record
from students.errors import StudentErrorCode
from students.models import StudentProfile
from students.validation import profile_changes_clean
from study.serializers import EMPTY_PREFERENCES, preferences_clean

# Who edits a student's profile besides the student: within the students they may see (the selector).
PROFILE_EDITORS = MANAGING_ROLES | {Role.CONSULTANT}


def student_timeline_record(*, student: User, actor: User | None, kind: str, text: str, data: dict) -> Activity:
    """An entry on the student's timeline: on their latest lead when they have one (where staff read it),
    else on the student."""
    lead = student.student_leads.order_by("-id").first()
    return activity_record(lead=lead, student=None if lead else student, actor=actor, kind=kind, text=text, data=data)


def profile_may_edit(actor: User, student: User) -> bool:
    return actor.pk == student.pk or (actor.is_active and actor.role in PROFILE_EDITORS)


def _locked_profile(student: User) -> StudentProfile:
    StudentProfile.objects.get_or_create(student=student, defaults={"preferences": dict(EMPTY_PREFERENCES)})
    return StudentProfile.objects.select_for_update().get(pk=student.pk)


@transaction.atomic
def profile_update(*, actor: User, student: User, changes: dict[str, Any]) -> StudentProfile:
    """Changes a profile (the student's own, or a student's by their staff: `student` comes from the
    selector). Every list is replaced whole. The timeline names the fields changed, never their values."""
    if student.role != Role.STUDENT:
        raise ValidationFailed("Only students have profiles.", code=StudentErrorCode.NOT_A_STUDENT)
    if not profile_may_edit(actor, student):
        raise Forbidden("You cannot change this profile.")
    cleaned = profile_changes_clean(changes, today=timezone.localdate())
    profile = _locked_profile(student)
    changed = sorted(name for name, value in cleaned.items() if getattr(profile, name) != value)
    for name, value in cleaned.items():
        setattr(profile, name, value)
    profile.save()
    if changed:
        student_timeline_record(
            student=student,
            actor=actor,
            kind=ActivityKind.PROFILE,
            text="Profile updated: " + ", ".join(name.replace("_", " ") for name in changed),
            data={"fields": changed},
        )
    return profile


@transaction.atomic
def profile_take_lead_preferences(*, student: User, preferences: dict[str, Any], actor: User | None) -> StudentProfile:
    """At conversion the lead's preferences become the profile's: what the lead says replaces what the
    profile had, what it leaves empty is kept."""
    lead_wishes = preferences_clean(preferences)
    profile = _locked_profile(student)
    merged = {**EMPTY_PREFERENCES, **(profile.preferences or {})}
    taken = sorted(k for k, v in lead_wishes.items() if v not in (None, [], "") and merged.get(k) != v)
    for key in taken:
        merged[key] = lead_wishes[key]
    if taken:
        profile.preferences = merged
        profile.save(update_fields=["preferences", "updated_at"])
        student_timeline_record(
            student=student,
            actor=actor,
            kind=ActivityKind.PROFILE,
            text="Preferences taken from the lead: " + ", ".join(taken),
            data={"fields": ["preferences"], "from_lead": taken},
        )
    return profile
