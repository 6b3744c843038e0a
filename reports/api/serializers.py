"""The documented shape of each report (reports.selectors), for OpenAPI and generated clients."""

from rest_framework import serializers

from applications.transitions import ApplicationStatus
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


# --- reports/applications (reports.applications) ----------------------------------------------------

APPLICATION_STATUSES = [
    "draft",
    "submitted",
    "conditional_offer",
    "unconditional_offer",
    "rejected",
    "offer_accepted",
    "deposit_paid",
    "confirmation_issued",
    "visa_applied",
    "visa_granted",
    "visa_refused",
    "enrolled",
    "withdrawn",
]


class ApplicationScopeSerializer(serializers.Serializer):
    office_id = serializers.IntegerField(allow_null=True)
    consultant_id = serializers.IntegerField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    intake = serializers.CharField(allow_null=True)
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)


class FunnelStepSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ApplicationStatus.choices)
    reached = serializers.IntegerField()


class MedianDaysSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=ApplicationStatus.choices)
    median_days = serializers.FloatField()
    moves = serializers.IntegerField()

    def get_fields(self):
        return {"from": serializers.ChoiceField(choices=ApplicationStatus.choices), **super().get_fields()}


def _breakdown_row(name: str, key_field: serializers.Field) -> type[serializers.Serializer]:
    fields = {name: key_field, "label": serializers.CharField(allow_blank=True), "total": serializers.IntegerField()}
    fields.update({status: serializers.IntegerField() for status in APPLICATION_STATUSES})
    return type(f"Applications{name.title().replace('_', '')}Row", (serializers.Serializer,), fields)


class ExpectedCommissionSerializer(serializers.Serializer):
    intake = serializers.CharField()
    currency = serializers.CharField()
    applications = serializers.IntegerField()
    expected = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Weighted by status")
    enrolled = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Of applications enrolled")


class ApplicationsReportSerializer(serializers.Serializer):
    scope = ApplicationScopeSerializer()
    total = serializers.IntegerField()
    by_status = _counts("ApplicationsByStatus", APPLICATION_STATUSES)()
    funnel = FunnelStepSerializer(many=True)
    offer_rate = serializers.FloatField()
    visa_success_rate = serializers.FloatField()
    median_days = MedianDaysSerializer(many=True)
    by_office = _breakdown_row("office_id", serializers.IntegerField())(many=True)
    by_consultant = _breakdown_row("consultant_id", serializers.IntegerField())(many=True)
    by_country = _breakdown_row("country", serializers.CharField())(many=True)
    by_intake = _breakdown_row("intake", serializers.CharField())(many=True)
    expected_commission = ExpectedCommissionSerializer(many=True)
    weights = type(
        "EnrolmentWeights",
        (serializers.Serializer,),
        {
            s: serializers.FloatField()
            for s in APPLICATION_STATUSES
            if s not in ("rejected", "visa_refused", "withdrawn")
        },
    )()
