"""Filters the API's lists share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django_filters import rest_framework as filters

from core.dates import RANGE_TEXT, moment_from_query


class MomentField(forms.CharField):
    """An ISO 8601 date-time read by `core.dates.moment_from_query`: an offset PostgreSQL would refuse
    (beyond ±15:59) or a moment outside the calendar the product counts is a 400, not a 500."""

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        moment = moment_from_query(text, default_tz=timezone.get_current_timezone())
        if moment is None:
            raise forms.ValidationError(f"An ISO 8601 date-time {RANGE_TEXT}, with an offset within ±15:59.")
        return moment


class MomentFilter(filters.IsoDateTimeFilter):  # (a date-time in the OpenAPI document)
    field_class = MomentField  # type: ignore[assignment]  # a text field read by core.dates, not a strptime one
