"""List pagination: `?limit=` and an opaque cursor; bodies are `{"results": [...], "next": url|null}`."""

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import CoreErrorCode, ValidationFailed


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "-id"

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
