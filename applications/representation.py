"""An application as every door shows it (REST, the socket's `application_updated`, the console): one
serializer. It carries no commission figure, so nothing built from it can show a student one."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from applications.models import Application, StatusChange
from applications.transitions import ApplicationStatus, next_statuses
from core.serializer_fields import PersonSerializer as PersonSerializer  # (moved to core: leads uses it too)
from study.vocabulary import format_intake


class CourseSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()
    field = serializers.CharField()
    currency = serializers.CharField()
    tuition_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    university_id = serializers.IntegerField()
    university_name = serializers.CharField(source="university.name")
    country = serializers.CharField(source="university.country.code")


class StatusChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    # `from` is a Python keyword: declared through the class namespace (DRF collects it like any field)
    locals()["from"] = serializers.CharField(
        source="from_status", allow_blank=True, help_text="The status before; empty for the creation"
    )
    to = serializers.ChoiceField(source="to_status", choices=ApplicationStatus.choices)
    by_id = serializers.IntegerField(source="actor_id", allow_null=True)
    by_name = serializers.SerializerMethodField()
    at = serializers.DateTimeField(source="created_at")
    note = serializers.CharField(allow_blank=True)
    checklist_override = serializers.BooleanField()

    def get_by_name(self, change: StatusChange) -> str | None:
        return change.actor.full_name if change.actor is not None else None


class OfferSerializer(serializers.Serializer):
    conditions = serializers.CharField(source="offer_conditions", allow_blank=True)
    deposit_amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    deposit_due = serializers.DateField(allow_null=True)
    document_id = serializers.IntegerField(source="offer_document_id", allow_null=True)


class ConfirmationSerializer(serializers.Serializer):
    kind = serializers.CharField(source="confirmation_kind", allow_blank=True, help_text="cas, i20, coe, loa or empty")
    number = serializers.CharField(source="confirmation_number", allow_blank=True)
    document_id = serializers.IntegerField(source="confirmation_document_id", allow_null=True)


class VisaSerializer(serializers.Serializer):
    applied_on = serializers.DateField(source="visa_applied_on", allow_null=True)
    decided_on = serializers.DateField(source="visa_decided_on", allow_null=True)
    reference = serializers.CharField(source="visa_reference", allow_blank=True)
    document_id = serializers.IntegerField(source="visa_document_id", allow_null=True)


class ApplicationSerializer(serializers.ModelSerializer):
    student_id = serializers.IntegerField()
    student = PersonSerializer()
    course_id = serializers.IntegerField()
    course = CourseSummarySerializer()
    intake = serializers.SerializerMethodField()
    consultant_id = serializers.IntegerField()
    consultant = PersonSerializer()
    office_id = serializers.IntegerField()
    destination = serializers.CharField(source="destination.code", help_text="ISO 3166 alpha-2")
    next_statuses = serializers.SerializerMethodField()
    status_history = StatusChangeSerializer(many=True)
    offer = OfferSerializer(source="*")
    confirmation = ConfirmationSerializer(source="*")
    visa = VisaSerializer(source="*")

    class Meta:
        model = Application
        fields = [
            "id",
            "student_id",
            "student",
            "course_id",
            "course",
            "intake",
            "destination",
            "consultant_id",
            "consultant",
            "office_id",
            "status",
            "next_statuses",
            "status_history",
            "offer",
            "confirmation",
            "visa",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2027-09"})
    def get_intake(self, application: Application) -> str | None:
        return format_intake(application.intake)

    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(ApplicationStatus.values)}})
    def get_next_statuses(self, application: Application) -> list[str]:
        """Where the status allows a move (who may make it is the caller's role: 403 otherwise)."""
        return list(next_statuses(application.status))


def application_payload(application: Application) -> dict[str, Any]:
    """JSON-ready, the same for everyone it reaches (student, consultant, managers)."""
    return dict(ApplicationSerializer(application).data)


class ChecklistItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a Field attribute (DRF allows)
    required = serializers.BooleanField()  # type: ignore[assignment]  # as above
    state = serializers.ChoiceField(choices=["missing", "pending", "approved", "rejected"])
    document_id = serializers.IntegerField(allow_null=True)
    document_kind = serializers.CharField()
    needed = serializers.IntegerField(help_text="Approved documents needed (two references)")
    approved = serializers.IntegerField()


class ChecklistSerializer(serializers.Serializer):
    template_id = serializers.IntegerField(allow_null=True)
    items = ChecklistItemSerializer(many=True)
    progress = serializers.IntegerField(min_value=0, max_value=100, help_text="Percent of required items approved")
