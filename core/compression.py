"""gzip for JSON (and CSV) responses above a size, when the client asks for it; never for a response
that carries a secret.

A page of 50 messages is ~20 kB of JSON and ~1.5 kB gzipped. Compression is left off for HTML
(the console's pages carry CSRF tokens) and for responses a view marks with `carries_secrets`
(tokens: login, signup, refresh, the console's page token): a compressed body whose length an
attacker can watch while reflecting chosen text next to a secret leaks the secret (BREACH).
Django's GZipMiddleware does the work (and pads its output against BREACH besides)."""

from __future__ import annotations

from typing import TypeVar

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware

MIN_BYTES = 1024  # below this, gzip's header and the CPU cost more than the bytes saved
COMPRESSED_TYPES = ("application/json", "text/csv", "application/vnd.oai.openapi+json")

Response = TypeVar("Response", bound=HttpResponseBase)


def carries_secrets(response: Response) -> Response:
    """Mark a response that holds a token or another secret: it is never compressed."""
    response.carries_secrets = True  # type: ignore[attr-defined]
    return response


class CompressionMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if getattr(response, "carries_secrets", False):
            return response
        if not response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        if not response.streaming and len(getattr(response, "content", b"")) < MIN_BYTES:
            return response
        return super().process_response(request, response)
