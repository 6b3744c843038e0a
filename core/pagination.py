"""List pagination: `?limit=` and an opaque cursor; bodies are `{"results": [...], "next": url|null}`.

Every list takes `limit` from 1 to `MAX_LIMIT` (one maximum for every list of the API, the history
page and search included, declared in the schema by core.schema); anything else is refused with 400
`validation_error` and `details.limit`, never silently clamped."""

from typing import Any

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


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT
    ordering = "-id"

    def get_page_size(self, request: Request) -> int:
        return limit_from(request, self.page_size)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """A cursor the server never handed out is bad input (400), not a missing page (DRF's 404)."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationFailed(
                "This cursor is not one the server gave out.", code=CoreErrorCode.INVALID_CURSOR
            ) from None

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
