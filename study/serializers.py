"""DRF fields for the study vocabulary, and what a student looks for (`PreferencesSerializer`): used by
leads (before conversion) and profiles (after), so both validate and document it the same way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from core.errors import ValidationFailed
from study import vocabulary


def _reraise(exc: ValidationFailed) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message, code=exc.code)


class CountryField(serializers.CharField):
    """ISO 3166-1 alpha-2 (`GB`); lower case is accepted and upper-cased."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 2)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return vocabulary.check_country(text)
        except ValidationFailed as exc:
            raise _reraise(exc) from None


class CurrencyField(serializers.CharField):
    """ISO 4217 (`GBP`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return vocabulary.check_currency(text)
        except ValidationFailed as exc:
            raise _reraise(exc) from None


class IntakeField(serializers.CharField):
    """A month as `YYYY-MM`; kept as that text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("help_text", "A month, YYYY-MM (e.g. 2027-09)")
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "An intake is written YYYY-MM, e.g. 2027-09.")
        )

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        try:
            return vocabulary.format_intake(vocabulary.parse_intake(text)) or ""
        except ValidationFailed as exc:
            raise _reraise(exc) from None


class PreferencesSerializer(serializers.Serializer):
    """What a student looks for: destination countries, levels, fields, the intake, a yearly budget."""

    countries = serializers.ListField(child=CountryField(), max_length=20, required=False, default=list)
    levels = serializers.ListField(
        child=serializers.ChoiceField(choices=vocabulary.StudyLevel.choices), max_length=6, required=False, default=list
    )
    fields = serializers.ListField(  # type: ignore[assignment]  # a field named like the serializer's attribute
        child=serializers.CharField(max_length=100), max_length=20, required=False, default=list
    )
    intake = IntakeField(required=False, allow_null=True, default=None)
    budget_per_year = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
    )
    currency = CurrencyField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("budget_per_year") is not None and not attrs.get("currency"):
            raise serializers.ValidationError({"currency": "A budget needs its currency."})
        attrs["countries"] = list(dict.fromkeys(attrs.get("countries") or []))
        attrs["levels"] = list(dict.fromkeys(attrs.get("levels") or []))
        attrs["fields"] = list(dict.fromkeys(f.strip() for f in attrs.get("fields") or [] if f.strip()))
        return attrs


def preferences_clean(data: object) -> dict[str, Any]:
    """Preferences as stored (JSON: the budget as a string of its decimal), or 400 with per-field details."""
    if data in (None, ""):
        data = {}
    checked = PreferencesSerializer(data=data)
    if not checked.is_valid():
        raise ValidationFailed("These preferences are not valid.", details={"preferences": checked.errors})
    value = dict(checked.validated_data)
    if value.get("budget_per_year") is not None:
        value["budget_per_year"] = str(value["budget_per_year"])
    return value


EMPTY_PREFERENCES: dict[str, Any] = {
    "countries": [],
    "levels": [],
    "fields": [],
    "intake": None,
    "budget_per_year": None,
    "currency": None,
}
