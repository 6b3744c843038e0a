"""Universities and their courses: company-wide reference data (super admins and managers write)."""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import Regex
from django_countries.fields import CountryField

from study.vocabulary import StudyLevel


class Partnership(models.TextChoices):
    DIRECT = "direct", "Direct partner"
    AGGREGATOR = "aggregator", "Through an aggregator"
    NONE = "none", "No partnership"


class University(models.Model):
    name = models.CharField(max_length=200)
    country = CountryField()
    city = models.CharField(max_length=100, blank=True)
    website = models.URLField(max_length=300, blank=True)
    partnership = models.CharField(max_length=12, choices=Partnership.choices, default=Partnership.NONE)
    # Percent of a year's tuition paid to the consultancy per enrolled student. Staff only, never a student.
    commission_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "universities"
        constraints = [
            models.UniqueConstraint(Lower("name"), "country", name="university_name_country_unique"),
            models.CheckConstraint(
                condition=models.Q(partnership__in=Partnership.values), name="university_partnership_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(commission_rate__gte=0, commission_rate__lte=100), name="university_commission_pct"
            ),
            # (through a cast: the country field's own lookups read the value as a country name or code)
            models.CheckConstraint(
                condition=Regex(Cast("country", models.CharField()), r"^[A-Z]{2}$"), name="university_country_code"
            ),
        ]
        indexes = [models.Index(fields=["country", "name"])]

    def __str__(self) -> str:
        return self.name


class Course(models.Model):
    university = models.ForeignKey(University, on_delete=models.PROTECT, related_name="courses")
    name = models.CharField(max_length=200)
    level = models.CharField(max_length=12, choices=StudyLevel.choices)
    field = models.CharField(max_length=100, help_text="Field of study, e.g. Computer Science")
    duration_months = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(120)])
    tuition_fee = models.DecimalField(max_digits=12, decimal_places=2, help_text="Per year, in `currency`")
    currency = models.CharField(max_length=3, help_text="ISO 4217")
    intakes = ArrayField(models.PositiveSmallIntegerField(), help_text="Months a course starts in, 1–12")
    min_ielts = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    min_toefl = models.PositiveSmallIntegerField(null=True, blank=True)
    min_pte = models.PositiveSmallIntegerField(null=True, blank=True)
    min_gpa = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True, help_text="On a 4.0 scale")
    requirement_notes = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Offered: open to new applications")
    # Course name (A), field (B), university and city (C): kept by a trigger (migration 0002), whatever writes.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["university__name", "name", "id"]
        constraints = [
            models.UniqueConstraint("university", Lower("name"), "level", name="course_natural_key"),
            models.CheckConstraint(condition=models.Q(level__in=StudyLevel.values), name="course_level_valid"),
            models.CheckConstraint(condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="course_currency_code"),
            models.CheckConstraint(condition=models.Q(tuition_fee__gte=0), name="course_tuition_not_negative"),
            models.CheckConstraint(
                condition=models.Q(duration_months__gte=1, duration_months__lte=120), name="course_duration_range"
            ),
            models.CheckConstraint(
                condition=models.Q(intakes__len__gte=1, intakes__contained_by=list(range(1, 13))),
                name="course_intakes_months",
            ),
            models.CheckConstraint(
                condition=models.Q(min_ielts__isnull=True) | models.Q(min_ielts__gte=0, min_ielts__lte=9),
                name="course_min_ielts_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_toefl__isnull=True) | models.Q(min_toefl__lte=120), name="course_min_toefl_range"
            ),
            models.CheckConstraint(
                condition=models.Q(min_pte__isnull=True) | models.Q(min_pte__gte=10, min_pte__lte=90),
                name="course_min_pte_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_gpa__isnull=True) | models.Q(min_gpa__gte=0, min_gpa__lte=4),
                name="course_min_gpa_range",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="course_search_gin"),
            GinIndex(fields=["intakes"], name="course_intakes_gin"),
            models.Index(fields=["level", "tuition_fee"], name="course_level_tuition_idx"),
            models.Index(fields=["university", "level"], name="course_university_level_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_level_display()})"
