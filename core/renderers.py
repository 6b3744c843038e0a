"""DRF's JSON renderer, encoded by orjson.

The same bytes as DRF's renderer for what the API returns (compact, UTF-8, U+2028/U+2029
escaped, dates, decimals, lazy strings and the rest through DRF's own encoder), several
times faster on big bodies such as a page of 200 messages. Pretty-printing (`Accept:
application/json; indent=4`, the browsable API) and anything orjson refuses (integers
beyond 64 bits) go through DRF's renderer.
"""

from collections.abc import Mapping
from typing import Any, cast

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS  # datetimes formatted by DRF's encoder
_default = JSONEncoder().default


class JSONRenderer(renderers.JSONRenderer):
    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Mapping[str, Any] | None = None
    ) -> bytes:
        if data is None:
            return b""
        # DRF's get_indent takes no media type too (the stubs say str)
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:  # type: ignore[arg-type]
            return cast(bytes, super().render(data, accepted_media_type, renderer_context))
        try:
            body = orjson.dumps(data, default=_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return cast(bytes, super().render(data, accepted_media_type, renderer_context))
        # as DRF: JSON that is also a strict JavaScript subset
        if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
            body = body.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
        return body
