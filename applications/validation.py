"""What a move or a change of an application takes, validated once (DRF serializers): the service checks
every write with these, whichever door it came through, and the API's schema describes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from applications.transitions import ApplicationStatus, Confirmation
from core.serializer_fields import clean as clean  # (moved to core: leads uses it too)
from study.serializers import IntakeField


class OfferInputSerializer(serializers.Serializer):
    conditions = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    deposit_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        coerce_to_string=False,
        help_text="In the course's currency",
    )
    deposit_due = serializers.DateField(required=False, allow_null=True)
    document_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="The offer letter (a document of kind offer_letter)"
    )


class ConfirmationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Confirmation.choices, required=False, help_text="Default: the destination's (CAS, I-20, CoE, LoA)"
    )
    number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    document_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class VisaInputSerializer(serializers.Serializer):
    applied_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today")
    decided_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today, on a decision")
    reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    document_id = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="The visa decision (kind visa_decision or visa)"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        applied, decided = attrs.get("applied_on"), attrs.get("decided_on")
        if applied and decided and decided < applied:
            raise serializers.ValidationError({"decided_on": "A visa is decided after it is applied for."})
        return attrs


class TransitionInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=ApplicationStatus.choices)
    note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why (required for rejected, visa_refused, withdrawn and a checklist override)",
    )
    from_status = serializers.ChoiceField(
        choices=ApplicationStatus.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="The status you saw: if it moved meanwhile, 409 stale_status",
    )
    override_checklist = serializers.BooleanField(
        required=False, default=False, help_text="Managers: submit with an incomplete checklist (note says why)"
    )
    offer = OfferInputSerializer(required=False)
    confirmation = ConfirmationInputSerializer(required=False)
    visa = VisaInputSerializer(required=False)


class ApplicationCreateSerializer(serializers.Serializer):
    student_id = serializers.IntegerField(min_value=1)
    course_id = serializers.IntegerField(min_value=1)
    intake = IntakeField()
    consultant_id = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: you, or the student's consultant",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ApplicationChangeSerializer(serializers.Serializer):
    consultant_id = serializers.IntegerField(min_value=1, required=False, help_text="Managers reassign")
    offer = OfferInputSerializer(required=False)
    confirmation = ConfirmationInputSerializer(required=False)
    visa = VisaInputSerializer(required=False)
