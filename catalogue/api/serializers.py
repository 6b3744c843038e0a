from __future__ import annotations

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
