"""The one error family and the one error shape.

Services raise `ApplicationError` subclasses (or Django's `ValidationError`); the REST
exception handler and the WebSocket consumer both render them as
`{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.outages import RETRY_AFTER_SECONDS, unavailable

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """The base of every area's error codes: one `StrEnum` per area (`LeadErrorCode` in
    `leads/errors.py`, ...), raised by name (`Conflict(..., code=LeadErrorCode.DUPLICATE)`).
    Every subclass is part of the one registry that the schema and the AsyncAPI list."""


class CoreErrorCode(ErrorCode):
    """Codes of what every area shares: bad paging, dates and query values."""

    INVALID_CURSOR = "invalid_cursor"  # a page position the server never gave out (core.pagination)
    INVALID_DATE = "invalid_date"  # a date or time outside what the calendar can count (reports, calendar)


class ApplicationError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "validation_error"


class NotFound(ApplicationError):
    """Also what a user gets for an object they may not see."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Forbidden(ApplicationError):
    """The user may see the object but not do this to it."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "permission_denied"

    def __init__(self, message: str = "You do not have permission to do this.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class UnsupportedMediaType(ApplicationError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = "unsupported_media_type"


class RateLimited(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"


class ServiceUnavailable(ApplicationError):
    """A dependency (PostgreSQL, Redis) is unreachable right now; the client may retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"

    def __init__(self, message: str = "The service is briefly unavailable; try again shortly.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _first_message(detail: object) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key == "non_field_errors" else f"{key}: {text}"
    return str(detail)


_DRF_CODES = {
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.ValidationError: "validation_error",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler rendering every error in the one shape."""
    exc = unavailable(exc) or exc  # PostgreSQL or Redis down: 503, not 500
    if isinstance(exc, ApplicationError):
        retry_after = exc.details.get("retry_after") if isinstance(exc, RateLimited) else None
        if isinstance(exc, ServiceUnavailable):
            retry_after = RETRY_AFTER_SECONDS
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return Response({"error": exc.as_dict()}, status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf_exceptions.ValidationError(messages)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500 in the one shape (core.views)
    assert isinstance(exc, drf_exceptions.APIException)  # what DRF answers (Django's own were converted above)

    # `error_code`: a DRF exception of ours with a code of its own (core.authentication's token refusals)
    code = getattr(exc, "error_code", None) or next(
        (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error"
    )
    details: dict[str, Any]
    if isinstance(exc, drf_exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(code, _first_message(exc.detail), details)
    else:
        details = {}
        # (the stubs leave out Throttled.wait)
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:  # type: ignore[attr-defined]
            details["retry_after"] = int(exc.wait) + 1  # type: ignore[attr-defined]
        # simplejwt's exceptions carry a dict ({"detail", "code", "messages"}): its text, never its repr
        detail = exc.detail.get("detail", "") if isinstance(exc.detail, dict) else exc.detail
        body = error_body(code, str(detail) or "Not authenticated.", details)
    response.data = body
    return response
