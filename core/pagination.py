"""List pagination: `?limit=` and an opaque cursor; bodies are `{"results": [...], "next": url|null}`.

Every list takes `limit` from 1 to `MAX_LIMIT` (one maximum for every list of the API, the history
page and search included, declared in the schema by core.schema); anything else is refused with 400
`validation_error` and `details.limit`, never silently clamped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models
from django.utils import timezone
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import CoreErrorCode, ValidationFailed

MAX_LIMIT = 200


def limit_from(request: Request, default: int) -> int:
    """`?limit=` checked against the one maximum (400 with `details.limit` when out of range)."""
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DRFValidationError({"limit": ["A valid integer is required."]}) from None
    if not 1 <= value <= MAX_LIMIT:
        raise DRFValidationError({"limit": [f"Ensure this value is between 1 and {MAX_LIMIT}."]})
    return value


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed("This cursor is not one the server gave out.", code=CoreErrorCode.INVALID_CURSOR)


def _ordering_field(queryset: models.QuerySet[Any], name: str) -> models.Field[Any, Any] | None:
    """The field (or annotation) a list is ordered by, whose values a cursor's position holds."""
    field: Any
    if name in queryset.query.annotations:
        field = queryset.query.annotations[name].output_field
    else:
        try:
            field = queryset.model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
    return field if isinstance(field, models.Field) else None


def position_for_database(queryset: models.QuerySet[Any], ordering: str, position: str) -> str | None:
    """`position` as a value of the list's first ordering field that PostgreSQL can compare, or None
    when it is none: a cursor is base64 anyone can write, and DRF filters with its position as given
    (a date for an id, a NUL byte, a number beyond bigint, a UTC offset PostgreSQL refuses, year 1 an
    hour west of Greenwich: each was a 500 from the ORM or the database)."""
    field = _ordering_field(queryset, ordering.lstrip("-"))
    if field is None:
        return position  # nothing known to check against: the ORM's own conversion decides
    try:
        value = field.to_python(position)
        if isinstance(value, datetime):  # times compare in UTC: any offset Python accepts, any year
            if timezone.is_naive(value):
                value = timezone.make_aware(value, timezone.get_default_timezone())
            value = value.astimezone(UTC)
        value = field.get_prep_value(value)
    except (DjangoValidationError, ValueError, TypeError, OverflowError):
        return None
    if isinstance(value, str) and "\x00" in value:
        return None
    if isinstance(field, models.IntegerField) and isinstance(value, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if not low <= value <= high:
            return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        return limit_from(request, self.page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        self._queryset = queryset  # decode_cursor checks the position against its ordering field
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """A cursor the server never handed out is bad input (400), not a missing page (DRF's 404)
        nor a crash: its position must be a value of the field the list is ordered by."""
        try:
            decoded = super().decode_cursor(request)
        except NotFound:
            raise _invalid_cursor() from None
        except (ValueError, OverflowError):  # DRF's own parse of a hand-made offset
            raise _invalid_cursor() from None
        queryset = getattr(self, "_queryset", None)
        # (DRF's position is the text of the cursor's `p`: the stubs call it an int)
        written: Any = decoded.position if decoded is not None else None
        if decoded is not None and written is not None and isinstance(queryset, models.QuerySet):
            ordering: Any = self.ordering
            position: Any = position_for_database(
                queryset, ordering if isinstance(ordering, str) else ordering[0], written
            )
            if position is None:
                raise _invalid_cursor()
            decoded = decoded._replace(position=position)
        return decoded

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        }
