from __future__ import annotations

from typing import cast

from rest_framework import serializers

from catalogue.models import Course, University


class UniversitySerializer(serializers.ModelSerializer):
    """What everyone signed in reads; staff get `UniversityStaffSerializer` (with the commission)."""

    country = serializers.CharField(source="country.code", help_text="ISO 3166 alpha-2")
    course_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = University
        fields = ["id", "name", "country", "city", "website", "partnership", "notes", "course_count", "updated_at"]
        read_only_fields = fields


class UniversityStaffSerializer(UniversitySerializer):
    """The schema's University: `commission_rate` is there for staff and absent for students (not required)."""

    commission_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        help_text="Percent of a year's tuition per enrolled student. Staff only: absent for students.",
    )

    class Meta(UniversitySerializer.Meta):
        fields = [*UniversitySerializer.Meta.fields, "commission_rate"]
        read_only_fields = UniversitySerializer.Meta.fields


class RequirementsOutSerializer(serializers.Serializer):
    min_ielts = serializers.DecimalField(max_digits=2, decimal_places=1, allow_null=True)
    min_toefl = serializers.IntegerField(allow_null=True)
    min_pte = serializers.IntegerField(allow_null=True)
    min_gpa = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)
    notes = serializers.CharField(source="requirement_notes", allow_blank=True)


class UniversityBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField(source="country.code")
    city = serializers.CharField(allow_blank=True)


class CourseSerializer(serializers.ModelSerializer):
    university_id = serializers.IntegerField()
    university = UniversityBriefSerializer()
    intakes = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=12))
    requirements = RequirementsOutSerializer(source="*")
    fit = serializers.SerializerMethodField(help_text="With eligible_for: how many wishes it meets, weighted")

    class Meta:
        model = Course
        fields = [
            "id",
            "university_id",
            "university",
            "name",
            "level",
            "field",
            "duration_months",
            "tuition_fee",
            "currency",
            "intakes",
            "requirements",
            "is_active",
            "fit",
            "updated_at",
        ]
        read_only_fields = fields

    def get_fit(self, course: Course) -> int | None:
        return getattr(course, "fit", None)

    def to_representation(self, instance: Course) -> dict:
        """The declared fields' output built directly: the same values, formatted by the same fields (the
        decimals and the time), without DRF's per-field walk and the two nested serializers per row (most
        of serialising a page of 50). The declarations above stay the schema; a test compares the two."""
        course, university = instance, instance.university
        fields = self.fields
        decimal = fields["tuition_fee"].to_representation
        requirements = cast(RequirementsOutSerializer, fields["requirements"]).fields
        ielts, gpa = requirements["min_ielts"].to_representation, requirements["min_gpa"].to_representation
        return {
            "id": course.pk,
            "university_id": course.university_id,
            "university": {
                "id": university.pk,
                "name": university.name,
                "country": university.country.code,
                "city": university.city,
            },
            "name": course.name,
            "level": course.level,
            "field": course.field,
            "duration_months": course.duration_months,
            "tuition_fee": decimal(course.tuition_fee),
            "currency": course.currency,
            "intakes": [int(month) for month in course.intakes],
            "requirements": {
                "min_ielts": None if course.min_ielts is None else ielts(course.min_ielts),
                "min_toefl": course.min_toefl,
                "min_pte": course.min_pte,
                "min_gpa": None if course.min_gpa is None else gpa(course.min_gpa),
                "notes": course.requirement_notes,
            },
            "is_active": course.is_active,
            "fit": getattr(course, "fit", None),
            "updated_at": fields["updated_at"].to_representation(course.updated_at),
        }
