"""Logging helpers: tokens never reach a log line.

`RedactTokensFilter` sits on the one log handler (settings LOGGING), so every record of every
logger passes it on its way out: the message, every extra field (the access log's `path`,
Django's `request`), the traceback of an error report and its stack.
"""

import logging
import re
from urllib.parse import unquote

_REDACTED = r"\1[redacted]"
_TOKEN_PATTERNS = [
    # query strings, form bodies, cookies: token=, access_token=, refresh_token=, csrftoken=, code=, sessionid=
    re.compile(r"((?:^|[?&;,\s\"'(])(?:[\w-]*token|code|sessionid)=)[^&;,\s\"')]+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[^\s\"',;)]+", re.IGNORECASE),
    # an Authorization header or META key with any scheme: "Authorization: Basic ...", 'HTTP_AUTHORIZATION': '...'
    re.compile(r"((?:HTTP_)?authorization[\"']?\s*[:=]\s*[\"']?)(?!Bearer\s+\[redacted\])[^\"'\n,}]+", re.IGNORECASE),
    re.compile(r"([\"'](?:access|refresh|token)[\"']\s*:\s*[\"'])[^\"']+"),
    # a JWT wherever it stands, whatever names it
    re.compile(r"()eyJ[\w-]*\.[\w-]+\.[\w-]+"),
]
# Most lines hold none of these: a substring test on them is a tenth of the cost of the patterns.
_MAYBE_SECRET = ("token", "code=", "sessionid", "bearer", "authorization", "eyj", "access", "refresh")
_STANDARD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_traceback_formatter = logging.Formatter()


def _mask(text: str) -> str:
    lowered = text.lower()
    if not any(word in lowered for word in _MAYBE_SECRET):
        return text
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(_REDACTED, text)
    return text


_UNESCAPE_ROUNDS = 3  # a client may escape twice; the server decodes once, the log looks deeper


def _unescaped(text: str) -> str:
    for _ in range(_UNESCAPE_ROUNDS):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


def redact(text: str) -> str:
    """`text` with its secrets masked. The server decodes a query's names and values before it reads
    them (`?%74oken=` is `?token=`, `%2E` a dot), so the patterns look at the decoded text too: a
    line whose decoded form holds a secret is written decoded, with the secret masked."""
    if "%" in text:
        decoded = _unescaped(text)
        if decoded != text:
            masked = _mask(decoded)
            if masked != decoded:
                return masked
    return _mask(text)


def _clean(value: object) -> object:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_clean(item) for item in value]
    if hasattr(value, "method") and hasattr(value, "get_full_path"):  # a request: what it asked, not its repr
        return redact(f"{value.method} {value.get_full_path()}")
    return redact(str(value))


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        fields = record.__dict__
        for name in fields.keys() - _STANDARD_FIELDS:
            fields[name] = _clean(fields[name])
        if record.exc_info:
            # formatted here (formatters would use exc_info first) so the traceback is cleaned too
            record.exc_text = redact(record.exc_text or _traceback_formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
