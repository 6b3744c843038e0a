"""JSON bodies are capped like Django caps form bodies (DATA_UPLOAD_MAX_MEMORY_SIZE).

DRF's JSONParser reads the raw stream, which Django's own limit never sees; without this a
client could make a worker buffer and parse any amount of JSON.
"""

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            body = stream.read(limit + 1)  # works for chunked bodies with no Content-Length too
            if len(body) > limit:
                from core.errors import PayloadTooLarge  # noqa: PLC0415 - core.errors imports DRF, which imports this

                raise PayloadTooLarge(f"The request body is larger than {limit} bytes.", details={"max_bytes": limit})
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)
