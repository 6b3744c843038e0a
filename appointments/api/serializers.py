from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from appointments.models import Appointment, AppointmentStatus
from core.db import BIGINT_MAX


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a UTC offset: a time without one is ambiguous across offices, so refused."""

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well formed but impossible, e.g. minute 99
            raise serializers.ValidationError("Not a real date and time.", code="invalid") from None
        if parsed is not None and parsed.tzinfo is None:
            raise serializers.ValidationError(
                "Include a UTC offset, e.g. 2030-01-01T10:00:00+00:00.", code="naive_datetime"
            )
        return super().to_internal_value(value)


class AppointmentSerializer(serializers.ModelSerializer):
    consultant_id = serializers.IntegerField(read_only=True)
    student_id = serializers.IntegerField(read_only=True, allow_null=True)
    lead_id = serializers.IntegerField(read_only=True, allow_null=True)
    office_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "consultant_id",
            "student_id",
            "lead_id",
            "office_id",
            "title",
            "start",
            "end",
            "status",
            "notes",
            "cancellation_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class AppointmentCreateSerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField(min_value=1)
    student_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    lead_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    title = serializers.CharField(max_length=200)
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    allow_outside_hours = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Staff: book although the office is closed then (else 409 outside_opening_hours). "
        "Students are always refused outside the opening hours.",
    )


class AppointmentUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW])


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    allow_outside_hours = serializers.BooleanField(
        required=False, default=False, help_text="Staff: move it although the office is closed then."
    )


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class AvailabilityQuerySerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField(min_value=1)
    date = serializers.DateField()


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class AvailabilitySerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField()
    date = serializers.DateField()
    results = SlotSerializer(many=True)


# At most this many consultants and days in one free-slots request.
FREE_SLOTS_MAX_CONSULTANTS, FREE_SLOTS_MAX_DAYS = 50, 31


class FreeSlotsQuerySerializer(serializers.Serializer):
    consultant_ids = serializers.CharField(
        max_length=600, help_text=f"Comma-separated consultant ids, at most {FREE_SLOTS_MAX_CONSULTANTS}"
    )
    date_from = serializers.DateField(help_text="First day (each consultant's office's days)")
    date_to = serializers.DateField(help_text=f"Last day, inclusive; at most {FREE_SLOTS_MAX_DAYS} days in all")

    def validate_consultant_ids(self, value: str) -> list[int]:
        try:
            ids = list(dict.fromkeys(int(part) for part in value.split(",") if part.strip()))
        except ValueError:
            raise serializers.ValidationError("Comma-separated whole numbers.") from None
        if not ids or any(n < 1 or n > BIGINT_MAX for n in ids):
            raise serializers.ValidationError("At least one consultant id, each a database id.")
        return ids


class FreeSlotSerializer(SlotSerializer):
    consultant_id = serializers.IntegerField()


class FreeSlotsSerializer(serializers.Serializer):
    results = FreeSlotSerializer(many=True)
