"""The one error family and the one error shape.

Services raise `ApplicationError` subclasses (or Django's `ValidationError`); the REST
exception handler and the WebSocket consumer both render them as
`{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import logging
import math
from enum import StrEnum
from typing import Any, Self

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.module_loading import autodiscover_modules
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

from core.outages import RETRY_AFTER_SECONDS, unavailable

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    """The base of every area's error codes: one `StrEnum` per area (`LeadErrorCode` in
    `leads/errors.py`, ...), raised by name (`Conflict(..., code=LeadErrorCode.DUPLICATE)`).
    Every subclass is part of the one registry (`registry()`) that the OpenAPI `Error` component
    and the AsyncAPI list; `core/tests/test_error_codes.py` fails on a code raised as a bare string
    or defined outside an `errors` module.

    A member is `NAME = "code"`, or `NAME = "code", "what it means to a client"`: the text goes into
    the schema's list of codes. A code may mean the same in two areas (`other_office`): each
    area lists it, clients see one value."""

    _value_: str
    description: str

    def __new__(cls, value: str, description: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member


class CoreErrorCode(ErrorCode):
    """Any endpoint: the shape of a request, authentication, limits, outages."""

    INVALID = "invalid", "Invalid input"
    VALIDATION_ERROR = "validation_error", "Invalid input: `details` maps each field to its messages"
    PARSE_ERROR = "parse_error", "The body is not valid JSON (or not the declared media type)"
    BAD_REQUEST = "bad_request", "The request could not be understood"
    INVALID_CURSOR = "invalid_cursor", "A pagination or sync cursor the server never gave out (or another user's)"
    INVALID_DATE = "invalid_date", "A date or time outside what the calendar can count (reports, calendar)"
    NOT_AUTHENTICATED = "not_authenticated", "No credentials were sent"
    AUTHENTICATION_FAILED = "authentication_failed", "The credentials were refused"
    TOKEN_INVALID = "token_invalid", "The token is malformed, revoked or its user inactive: sign in again"
    TOKEN_EXPIRED = "token_expired", "The access token expired: refresh it (the refresh token expired: sign in)"
    PERMISSION_DENIED = "permission_denied", "You may see this but not do this"
    NOT_FOUND = "not_found", "No such object, or one you may not see"
    METHOD_NOT_ALLOWED = "method_not_allowed", "This path does not take this method"
    NOT_ACCEPTABLE = "not_acceptable", "No representation matches the Accept header"
    CONFLICT = "conflict", "Conflicts with the current state"
    TOO_LARGE = "too_large", "The request body is larger than the server accepts"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "The body's Content-Type is not accepted here"
    THROTTLED = "throttled", "Too many requests: wait `Retry-After` (= `details.retry_after`) seconds"
    RATE_LIMITED = "rate_limited", "Too many requests or frames: slow down (`details.retry_after` when known)"
    SERVICE_UNAVAILABLE = (
        "service_unavailable",
        "PostgreSQL, Redis or storage is briefly down: retry after `Retry-After`",
    )
    SERVER_ERROR = "server_error", "A bug on the server's side; it has been logged"
    ERROR = "error", "An error without a more precise code"


class UploadErrorCode(ErrorCode):
    """Files: uploads of messages, documents and imports (`core/uploads.py`)."""

    FILE_TOO_LARGE = "file_too_large", "Over the size limit (`details.max_size` bytes)"
    TOO_MANY_FILES = "too_many_files", "Too many files at once (`details.max_files`)"
    EXECUTABLE_REFUSED = "executable_refused", "Programs are never accepted"
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type", "This kind of file (read from its bytes) is not accepted"
    MARKUP_REFUSED = "markup_refused", "HTML, SVG and XML are never accepted"
    IMAGE_TOO_LARGE = "image_too_large", "The image has too many pixels (`details.max_pixels`)"
    INVALID_IMAGE = "invalid_image", "The image is damaged or incomplete"
    EMPTY_FILE = "empty_file", "The file is empty"
    INVALID_FILE_SIZE = "invalid_file_size", "file_size is not a number of bytes"
    FILE_MISSING = "file_missing", "The file is missing from storage"


def registry() -> dict[str, list[ErrorCode]]:
    """Every error code, {code: [the member of each area that lists it]}, sorted: the members of
    `ErrorCode` subclasses in `core.errors` and in each installed app's `errors` module."""
    autodiscover_modules("errors")
    codes: dict[str, list[ErrorCode]] = {}
    pending = list(ErrorCode.__subclasses__())
    while pending:
        area = pending.pop(0)
        pending.extend(area.__subclasses__())
        for member in area:
            codes.setdefault(member.value, []).append(member)
    return dict(sorted(codes.items()))


def registry_schema() -> dict[str, Any]:
    """The registry as a JSON Schema string enum, each code's meaning in the description (the
    OpenAPI `ErrorDetail.code` and the AsyncAPI `ErrorData.code`)."""
    lines = []
    for value, members in registry().items():
        meanings = "; ".join(
            f"{member.description} ({type(member).__name__})" if member.description else type(member).__name__
            for member in members
        )
        lines.append(f"- `{value}`: {meanings}")
    return {
        "type": "string",
        "enum": list(registry()),
        "description": "Stable machine code from the one registry (core.errors.ErrorCode, an enum per area):\n\n"
        + "\n".join(lines),
    }


class ApplicationError(Exception):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code: str = CoreErrorCode.INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(ApplicationError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = CoreErrorCode.VALIDATION_ERROR


class NotFound(ApplicationError):
    """Also what a user gets for an object they may not see."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = CoreErrorCode.NOT_FOUND

    def __init__(self, message: str = "Not found.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Forbidden(ApplicationError):
    """The user may see the object but not do this to it."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = CoreErrorCode.PERMISSION_DENIED

    def __init__(self, message: str = "You do not have permission to do this.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = CoreErrorCode.CONFLICT


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = CoreErrorCode.TOO_LARGE


class UnsupportedMediaType(ApplicationError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_code = CoreErrorCode.UNSUPPORTED_MEDIA_TYPE


class RateLimited(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = CoreErrorCode.RATE_LIMITED


class ServiceUnavailable(ApplicationError):
    """A dependency (PostgreSQL, Redis) is unreachable right now; the client may retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = CoreErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, message: str = "The service is briefly unavailable; try again shortly.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


def error_body(code: ErrorCode | str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _first_message(detail: object) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        text = _first_message(value)
        return text if key == "non_field_errors" else f"{key}: {text}"
    return str(detail)


_DRF_CODES: dict[type[drf_exceptions.APIException], ErrorCode] = {
    drf_exceptions.NotAuthenticated: CoreErrorCode.NOT_AUTHENTICATED,
    drf_exceptions.AuthenticationFailed: CoreErrorCode.AUTHENTICATION_FAILED,
    drf_exceptions.PermissionDenied: CoreErrorCode.PERMISSION_DENIED,
    drf_exceptions.NotFound: CoreErrorCode.NOT_FOUND,
    drf_exceptions.MethodNotAllowed: CoreErrorCode.METHOD_NOT_ALLOWED,
    drf_exceptions.NotAcceptable: CoreErrorCode.NOT_ACCEPTABLE,
    drf_exceptions.UnsupportedMediaType: CoreErrorCode.UNSUPPORTED_MEDIA_TYPE,
    drf_exceptions.Throttled: CoreErrorCode.THROTTLED,
    drf_exceptions.ParseError: CoreErrorCode.PARSE_ERROR,
    drf_exceptions.ValidationError: CoreErrorCode.VALIDATION_ERROR,
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler rendering every error in the one shape."""
    exc = unavailable(exc) or exc  # PostgreSQL or Redis down: 503, not 500
    if isinstance(exc, ApplicationError):
        retry_after = exc.details.get("retry_after") if isinstance(exc, RateLimited) else None
        if isinstance(exc, ServiceUnavailable):
            retry_after = exc.details["retry_after"] = RETRY_AFTER_SECONDS
        # The header and `details.retry_after` always say the same number of seconds.
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return Response({"error": exc.as_dict()}, status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf_exceptions.ValidationError(messages)
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    # (DRF's views load the authentication classes, which take their codes from this module)
    from rest_framework.views import exception_handler as drf_exception_handler  # noqa: PLC0415 - import cycle

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer 500 in the one shape (core.views)
    assert isinstance(exc, drf_exceptions.APIException)  # what DRF answers (Django's own were converted above)

    # `error_code`: a DRF exception of ours with a code of its own (core.authentication's token refusals)
    code = getattr(exc, "error_code", None) or next(
        (c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), CoreErrorCode.ERROR
    )
    details: dict[str, Any]
    if isinstance(exc, drf_exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(code, _first_message(exc.detail), details)
    else:
        details = {}
        # (the stubs leave out Throttled.wait)
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:  # type: ignore[attr-defined]
            # Whole seconds, rounded up, in the header and the body alike (DRF's header truncates).
            details["retry_after"] = max(1, math.ceil(exc.wait))  # type: ignore[attr-defined]
            response["Retry-After"] = str(details["retry_after"])
        # simplejwt's exceptions carry a dict ({"detail", "code", "messages"}): its text, never its repr
        detail = exc.detail.get("detail", "") if isinstance(exc.detail, dict) else exc.detail
        body = error_body(code, str(detail) or "Not authenticated.", details)
    response.data = body
    return response
