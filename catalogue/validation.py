"""What a university or a course is made of, validated once (DRF serializers): the services validate
every write with these (API, console, import), and the API's schema describes them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from catalogue.models import Partnership
from core.errors import ValidationFailed
from study import vocabulary
from study.serializers import CountryField, CurrencyField


class UniversityInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    country = CountryField()
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    website = serializers.URLField(max_length=300, required=False, allow_blank=True, default="")
    partnership = serializers.ChoiceField(choices=Partnership.choices, required=False, default=Partnership.NONE)
    commission_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        default=Decimal(0),
        coerce_to_string=False,
        help_text="Percent of a year's tuition (staff only)",
    )
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RequirementsSerializer(serializers.Serializer):
    min_ielts = serializers.DecimalField(
        max_digits=2, decimal_places=1, required=False, allow_null=True, default=None, coerce_to_string=False
    )
    min_toefl = serializers.IntegerField(min_value=0, max_value=120, required=False, allow_null=True, default=None)
    min_pte = serializers.IntegerField(min_value=10, max_value=90, required=False, allow_null=True, default=None)
    min_gpa = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(4),
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
        help_text="On a 4.0 scale",
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate_min_ielts(self, value: Decimal | None) -> Decimal | None:
        if value is not None:
            try:
                vocabulary.check_score(vocabulary.TestKind.IELTS, value)
            except ValidationFailed as exc:
                raise serializers.ValidationError(exc.message, code=exc.code) from None
        return value


class CourseInputSerializer(serializers.Serializer):
    university_id = serializers.IntegerField(min_value=1)
    name = serializers.CharField(max_length=200)
    level = serializers.ChoiceField(choices=vocabulary.StudyLevel.choices)
    field = serializers.CharField(max_length=100)
    duration_months = serializers.IntegerField(min_value=1, max_value=120)
    tuition_fee = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal(0), coerce_to_string=False, help_text="Per year"
    )
    currency = CurrencyField()
    intakes = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=12), min_length=1, max_length=12, help_text="Months 1–12"
    )
    requirements = RequirementsSerializer(required=False)
    is_active = serializers.BooleanField(required=False, default=True)


def clean(serializer_class: type[serializers.Serializer], data: object, *, partial: bool = False) -> dict[str, Any]:
    """Validated data, or 400 `validation_error` with per-field details (the first in the message)."""
    if not isinstance(data, dict):
        raise ValidationFailed("Send a JSON object.")
    checked = serializer_class(data=data, partial=partial)
    if not checked.is_valid():
        field, messages = next(iter(checked.errors.items()))
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):
            inner, inner_messages = next(iter(first.items()))
            field, first = f"{field}.{inner}", inner_messages[0] if isinstance(inner_messages, list) else inner_messages
        raise ValidationFailed(f"{field}: {first}", details=dict(checked.errors))
    return dict(checked.validated_data)
