from __future__ import annotations

from typing import Any

from rest_framework import serializers

from students.validation import (
    EducationSerializer,
    FundingSerializer,
    TestScoreOutSerializer,
    WorkExperienceSerializer,
)
from study.serializers import PreferencesSerializer


class ProfileSerializer(serializers.Serializer):
    """A student's profile as shown to `viewer` (the passport number masked unless they may see it)."""

    student_id = serializers.IntegerField()
    date_of_birth = serializers.DateField(allow_null=True)
    nationality = serializers.CharField(allow_blank=True, help_text="ISO 3166 alpha-2, or empty")
    passport_number = serializers.CharField(
        allow_blank=True, help_text="Shown to the student and their office's staff; masked (•••123) for others"
    )
    passport_masked = serializers.BooleanField()
    education = EducationSerializer(many=True)
    test_scores = TestScoreOutSerializer(many=True)
    preferences = PreferencesSerializer()
    work_experience = WorkExperienceSerializer(many=True)
    funding = FundingSerializer()
    updated_at = serializers.DateTimeField(allow_null=True)


def profile_body(view: dict[str, Any]) -> dict[str, Any]:
    return dict(ProfileSerializer(view).data)
