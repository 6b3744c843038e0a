"""Writes on the catalogue: super admins and managers (company-wide reference data). Each validates with
`catalogue.validation`, whichever door it came through; the import (`catalogue.importer`) writes in bulk
with the same validation."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import MANAGING_ROLES, User
from catalogue.errors import CatalogueErrorCode
from catalogue.models import Course, University
from catalogue.validation import CourseInputSerializer, UniversityInputSerializer, clean
from core.errors import Conflict, Forbidden, ValidationFailed

CATALOGUE_WRITERS = MANAGING_ROLES

REQUIREMENT_FIELDS = ("min_ielts", "min_toefl", "min_pte", "min_gpa")


def catalogue_may_write(actor: User) -> bool:
    return actor.is_active and actor.role in CATALOGUE_WRITERS


def _writer(actor: User) -> None:
    if not catalogue_may_write(actor):
        raise Forbidden("Only managers and super admins change the catalogue.")


def _saved(instance: University | Course, duplicate: Conflict) -> None:
    """Saves in a savepoint: a unique rule the database refuses is a 409, and the caller's transaction
    carries on (the import reports it per row)."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        if "natural_key" in str(exc) or "name_country_unique" in str(exc):
            raise duplicate from None
        raise


def _university_duplicate(name: str, country: str) -> Conflict:
    return Conflict(
        f"{name} ({country}) is already in the catalogue.",
        code=CatalogueErrorCode.DUPLICATE_UNIVERSITY,
        details={"name": name, "country": country},
    )


@transaction.atomic
def university_create(*, actor: User, data: dict[str, Any]) -> University:
    _writer(actor)
    fields = clean(UniversityInputSerializer, data)
    university = University(**fields)
    _saved(university, _university_duplicate(fields["name"], fields["country"]))
    return university


@transaction.atomic
def university_update(*, actor: User, university: University, data: dict[str, Any]) -> University:
    _writer(actor)
    fields = clean(UniversityInputSerializer, data, partial=True)
    university = University.objects.select_for_update().get(pk=university.pk)
    for name, value in fields.items():
        setattr(university, name, value)
    _saved(university, _university_duplicate(university.name, str(university.country)))
    return university


@transaction.atomic
def university_delete(*, actor: User, university: University) -> None:
    _writer(actor)
    if university.courses.exists():
        raise Conflict(
            "Remove or move this university's courses first.",
            code=CatalogueErrorCode.UNIVERSITY_IN_USE,
            details={"courses": university.courses.count()},
        )
    university.delete()


def _course_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validated input as model fields: the requirements object flattened, intakes sorted and unique."""
    fields = dict(fields)
    requirements = fields.pop("requirements", None)
    if requirements is not None:
        for name in REQUIREMENT_FIELDS:
            fields[name] = requirements.get(name)
        fields["requirement_notes"] = requirements.get("notes", "")
    if "intakes" in fields:
        fields["intakes"] = sorted(set(fields["intakes"]))
    university_id = fields.pop("university_id", None)
    if university_id is not None:
        university = University.objects.filter(pk=university_id).first()
        if university is None:
            raise ValidationFailed(
                "Unknown university.",
                code=CatalogueErrorCode.UNKNOWN_UNIVERSITY,
                details={"university_id": university_id},
            )
        fields["university"] = university
    return fields


def _course_duplicate(course: Course) -> Conflict:
    return Conflict(
        f"{course.university.name} already has a {course.level} course named {course.name}.",
        code=CatalogueErrorCode.DUPLICATE_COURSE,
        details={"university_id": course.university_id, "name": course.name, "level": course.level},
    )


@transaction.atomic
def course_create(*, actor: User, data: dict[str, Any]) -> Course:
    _writer(actor)
    course = Course(**_course_fields(clean(CourseInputSerializer, data)))
    _saved(course, _course_duplicate(course))
    return course


@transaction.atomic
def course_update(*, actor: User, course: Course, data: dict[str, Any]) -> Course:
    _writer(actor)
    fields = _course_fields(clean(CourseInputSerializer, data, partial=True))
    course = Course.objects.select_for_update().select_related("university").get(pk=course.pk)
    for name, value in fields.items():
        setattr(course, name, value)
    _saved(course, _course_duplicate(course))
    course.refresh_from_db(fields=["search_vector"])
    return course


@transaction.atomic
def course_delete(*, actor: User, course: Course) -> None:
    """A course nobody applied to goes; one with applications stays (deactivate it: `is_active` false)."""
    _writer(actor)
    if course.applications.exists():  # (reverse relation of applications.Application: no import uphill)
        raise Conflict(
            "Students applied to this course: deactivate it instead (is_active false).",
            code=CatalogueErrorCode.COURSE_IN_USE,
        )
    course.delete()
