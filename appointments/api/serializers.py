from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from appointments.models import Appointment, AppointmentStatus


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


class AppointmentUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW])


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    end = AwareDateTimeField()
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class AvailabilityQuerySerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField(min_value=1)
    date = serializers.DateField()


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
