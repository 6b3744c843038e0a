"""The documented shape of each report (reports.selectors), for OpenAPI and generated clients."""

from rest_framework import serializers

from appointments.models import AppointmentStatus
from leads.models import LeadSource, LeadStatus
from messaging.models import MessageType


def _counts(name: str, keys) -> type[serializers.Serializer]:
    """An object with one integer per key (every key always present)."""
    return type(name, (serializers.Serializer,), {key: serializers.IntegerField() for key in keys})


class ScopeSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    office_id = serializers.IntegerField(allow_null=True)


class DayCountSerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()


class LostReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()


class OfficeCountSerializer(serializers.Serializer):
    office_id = serializers.IntegerField(allow_null=True)
    office = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class ConsultantLeadsSerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField()
    consultant = serializers.CharField()
    assigned = serializers.IntegerField()
    converted = serializers.IntegerField()


class LeadsReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    total = serializers.IntegerField()
    funnel = _counts("LeadFunnel", LeadStatus.values)()
    converted = serializers.IntegerField()
    conversion_rate = serializers.FloatField()
    average_hours_to_convert = serializers.FloatField(allow_null=True)
    by_source = _counts("LeadsBySource", LeadSource.values)()
    by_lost_reason = LostReasonSerializer(many=True)
    by_office = OfficeCountSerializer(many=True)
    by_consultant = ConsultantLeadsSerializer(many=True)


class AppointmentsReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    total = serializers.IntegerField()
    by_status = _counts("AppointmentsByStatus", AppointmentStatus.values)()
    no_show_rate = serializers.FloatField()
    per_day = DayCountSerializer(many=True)


class ConsultantRowSerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField()
    consultant = serializers.CharField()
    leads_assigned = serializers.IntegerField()
    leads_converted = serializers.IntegerField()
    conversion_rate = serializers.FloatField()
    average_first_response_minutes = serializers.FloatField(allow_null=True)
    conversations_answered = serializers.IntegerField()


class ConsultantsReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    consultants = ConsultantRowSerializer(many=True)


class MessagesReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    total = serializers.IntegerField()
    per_day = DayCountSerializer(many=True)
    by_type = _counts("MessagesByType", MessageType.values)()
    median_response_minutes = serializers.FloatField(allow_null=True)
    replies = serializers.IntegerField()


class DailyActiveSerializer(serializers.Serializer):
    date = serializers.DateField()
    users = serializers.IntegerField()


class ActivityReportSerializer(serializers.Serializer):
    scope = ScopeSerializer()
    daily_active_users = DailyActiveSerializer(many=True)
    active_users = serializers.IntegerField()


REPORT_SERIALIZERS = {
    "leads": LeadsReportSerializer,
    "appointments": AppointmentsReportSerializer,
    "consultants": ConsultantsReportSerializer,
    "messages": MessagesReportSerializer,
    "activity": ActivityReportSerializer,
}
