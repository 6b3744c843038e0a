from django.conf import settings
from django.db import models
from django.db.models.lookups import Exact
from django_countries.fields import CountryField


def _json_type(field: str) -> models.Func:
    return models.Func(models.F(field), function="jsonb_typeof", output_field=models.CharField())


class StudentProfile(models.Model):
    """What the consultancy knows about a student beyond their account: who they are (passport), what they
    studied and scored, what they look for. One per student; the lists are validated by `students.validation`."""

    student = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="profile"
    )
    date_of_birth = models.DateField(null=True, blank=True)
    nationality = CountryField(blank=True)
    # Shown to the student and their office's staff only (students.selectors.passport_visible_to); never logged.
    passport_number = models.CharField(max_length=20, blank=True)
    education = models.JSONField(default=list, blank=True)
    test_scores = models.JSONField(default=list, blank=True)
    preferences = models.JSONField(default=dict, blank=True)
    work_experience = models.JSONField(default=list, blank=True)
    funding = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The lists are lists and the objects objects, whatever door wrote them.
        constraints = [
            models.CheckConstraint(condition=Exact(_json_type("education"), "array"), name="profile_education_list"),
            models.CheckConstraint(condition=Exact(_json_type("test_scores"), "array"), name="profile_scores_list"),
            models.CheckConstraint(
                condition=Exact(_json_type("work_experience"), "array"), name="profile_work_experience_list"
            ),
            models.CheckConstraint(
                condition=Exact(_json_type("preferences"), "object"), name="profile_preferences_obj"
            ),
            models.CheckConstraint(condition=Exact(_json_type("funding"), "object"), name="profile_funding_object"),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.student}"
