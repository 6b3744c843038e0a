"""A profile's parts, validated and documented once (DRF serializers): the service validates every
write with these, whichever door it came through, and the API's schema describes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from core.errors import ValidationFailed
from study import vocabulary
from study.serializers import CountryField, CurrencyField, PreferencesSerializer

MAX_ENTRIES = 20


class EducationSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=vocabulary.EducationLevel.choices)
    institution = serializers.CharField(max_length=200)
    country = CountryField()
    grade = serializers.DecimalField(max_digits=6, decimal_places=2, coerce_to_string=False)
    scale = serializers.DecimalField(
        max_digits=6, decimal_places=2, coerce_to_string=False, help_text="4, 5, 7, 10, 20 or 100"
    )
    year = serializers.IntegerField(min_value=1950, max_value=2100, help_text="Year completed (or expected)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            vocabulary.check_grade(attrs["grade"], attrs["scale"])
        except ValidationFailed as exc:
            raise serializers.ValidationError({"grade": exc.message}, code=exc.code) from None
        return attrs


class TestScoreSerializer(serializers.Serializer):
    test = serializers.ChoiceField(choices=vocabulary.TestKind.choices)
    overall = serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False)
    sections = serializers.DictField(
        child=serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=False),
        required=False,
        default=dict,
        help_text="Per section of the test (IELTS: listening, reading, writing, speaking; ...)",
    )
    taken_on = serializers.DateField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        test = attrs["test"]
        rule = vocabulary.SCORE_RULES[test]
        try:
            vocabulary.check_score(test, attrs["overall"])
        except ValidationFailed as exc:
            raise serializers.ValidationError({"overall": exc.message}, code=exc.code) from None
        for section, value in attrs.get("sections", {}).items():
            if section not in rule.sections:
                raise serializers.ValidationError(
                    {"sections": f"{vocabulary.TestKind(test).label} sections are {', '.join(rule.sections)}."}
                )
            try:
                vocabulary.check_score(test, value, section=section)
            except ValidationFailed as exc:
                raise serializers.ValidationError({"sections": exc.message}, code=exc.code) from None
        if attrs["taken_on"] > self.context.get("today", date.max):
            raise serializers.ValidationError({"taken_on": "A test is taken on or before today."})
        return attrs


class TestScoreOutSerializer(TestScoreSerializer):
    valid_until = serializers.DateField(allow_null=True, help_text="The last day it counts; null: never expires")
    valid = serializers.BooleanField(help_text="Still valid today")


class WorkExperienceSerializer(serializers.Serializer):
    organisation = serializers.CharField(max_length=200)
    title = serializers.CharField(max_length=200)
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None, help_text="null: to date")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("end") is not None and attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "A job ends after it starts."})
        return attrs


class FundingSerializer(serializers.Serializer):
    SOURCES = ("self", "family", "sponsor", "scholarship", "loan", "employer")
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=SOURCES), max_length=len(SOURCES), required=False, default=list
    )
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=False,
    )
    currency = CurrencyField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("amount") is not None and not attrs.get("currency"):
            raise serializers.ValidationError({"currency": "An amount needs its currency."})
        return attrs


class ProfileChangesSerializer(serializers.Serializer):
    """What a PATCH may change; every list is replaced whole."""

    date_of_birth = serializers.DateField(required=False, allow_null=True)
    nationality = CountryField(required=False, allow_blank=True)
    passport_number = serializers.RegexField(
        r"^[A-Za-z0-9]{5,20}$", required=False, allow_blank=True, help_text="5–20 letters and digits"
    )
    education = EducationSerializer(many=True, required=False, max_length=MAX_ENTRIES)  # type: ignore[call-arg]  # DRF takes it (stubs lag)
    test_scores = TestScoreSerializer(many=True, required=False, max_length=MAX_ENTRIES)  # type: ignore[call-arg]  # DRF takes it (stubs lag)
    preferences = PreferencesSerializer(required=False)
    work_experience = WorkExperienceSerializer(many=True, required=False, max_length=MAX_ENTRIES)  # type: ignore[call-arg]  # DRF takes it (stubs lag)
    funding = FundingSerializer(required=False)

    def validate_date_of_birth(self, value: date | None) -> date | None:
        today = self.context.get("today")
        if value is not None and today is not None and not (date(1900, 1, 1) <= value <= today):
            raise serializers.ValidationError("A date of birth is in the past.")
        return value


def _jsonable(value: Any) -> Any:
    """Validated data as stored in JSON: decimals and dates as their text."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def profile_changes_clean(data: object, *, today: date) -> dict[str, Any]:
    """The changes a PATCH asks for, validated and ready to store, or 400 with per-field details."""
    if not isinstance(data, dict):
        raise ValidationFailed("A profile change is a JSON object.")
    # Not `partial`: DRF would pass it down to each list entry, and an entry is always whole. Every field
    # here is optional, so what is not sent is not changed.
    checked = ProfileChangesSerializer(data=data, context={"today": today})
    if not checked.is_valid():
        raise ValidationFailed(_first(checked.errors), details=checked.errors)
    changes = dict(checked.validated_data)
    for name in ("education", "test_scores", "work_experience"):
        if name in changes:
            changes[name] = _jsonable([dict(entry) for entry in changes[name]])
    for name in ("preferences", "funding"):
        if name in changes:
            changes[name] = _jsonable(dict(changes[name]))
    if "passport_number" in changes:
        changes["passport_number"] = changes["passport_number"].upper()
    return changes


def _first(errors: Any, path: str = "") -> str:
    """The first message, with where it is (`test_scores[0].overall: ...`)."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            where = f"{path}.{key}" if path and key != "non_field_errors" else (path or key)
            return _first(value, where)
    if isinstance(errors, list):
        for index, value in enumerate(errors):
            if value:
                inner = value if not isinstance(value, (dict, list)) else None
                return f"{path}: {inner}" if inner is not None else _first(value, f"{path}[{index}]")
    return f"{path}: {errors}" if path else str(errors)
