"""The one file-handling path for message attachments and documents.

- `LimitedUploadHandler` refuses an oversized body while it streams (413), before Django
  buffers or spools it, and caps the number of files.
- `check_upload` decides the type from the bytes (never the name or the client's header),
  refuses executables, markup (HTML/SVG/XML) and anything not in ALLOWED_FILE_TYPES,
  sanitises the name, decodes images under a decompression-bomb guard, and runs the
  optional virus-scan hook.
- `store_upload` writes under a random key (the original name is metadata only) and makes
  a thumbnail for images; `file_response` serves a download safely (attachment, nosniff,
  a sandboxing CSP) or redirects to a short-lived signed S3 URL. A file missing from local
  storage answers 404 `file_missing` and is logged as an error; unreadable storage answers 503.
  With S3 the signed URL is made without a round trip to S3, so a lost object shows as S3's 404.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import re
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.utils.module_loading import import_string
from PIL import Image, UnidentifiedImageError
from rest_framework.request import Request

from core.errors import (
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    UploadErrorCode,
    ValidationFailed,
)

logger = logging.getLogger(__name__)

HEAD_BYTES = 8192
MULTIPART_OVERHEAD = 64 * 1024
THUMBNAIL_SIZE = (320, 320)

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "video/mp4": ".mp4",
    "audio/mpeg": ".mp3",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}


# --- streaming limits ------------------------------------------------------------------


class LimitedUploadHandler(FileUploadHandler):
    """Counts bytes as they arrive; the first byte over the limit ends the upload with 413."""

    def __init__(
        self, request: HttpRequest | None = None, *, max_size: int | None = None, max_files: int | None = None
    ) -> None:
        super().__init__(request)
        self.max_size = max_size or settings.MAX_FILE_SIZE
        self.max_files = max_files or settings.MAX_FILES_PER_MESSAGE
        self.files_seen = 0
        self.bytes_in_file = 0

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length and content_length > self.max_size * self.max_files + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(
                _too_large_message(self.max_size),
                code=UploadErrorCode.FILE_TOO_LARGE,
                details={"max_size": self.max_size},
            )

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.files_seen += 1
        self.bytes_in_file = 0
        if self.files_seen > self.max_files:
            raise ValidationFailed(
                f"At most {self.max_files} files at once.",
                code=UploadErrorCode.TOO_MANY_FILES,
                details={"max_files": self.max_files},
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.bytes_in_file += len(raw_data)
        if self.bytes_in_file > self.max_size:
            raise PayloadTooLarge(
                _too_large_message(self.max_size),
                code=UploadErrorCode.FILE_TOO_LARGE,
                details={"max_size": self.max_size, "file_name": self.file_name},
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) builds the file


def limit_uploads(request: HttpRequest | Request, *, max_files: int | None = None) -> None:
    """Install the streaming limits on a request before its body is read."""
    django_request = getattr(request, "_request", request)
    # (a list until the body is read; the stubs add the immutable one it becomes)
    django_request.upload_handlers.insert(0, LimitedUploadHandler(django_request, max_files=max_files))  # type: ignore[union-attr]


def _too_large_message(max_size: int) -> str:
    return (
        f"Files can be at most {max_size // (1024 * 1024) or max_size} {'MB' if max_size >= 1024 * 1024 else 'bytes'}."
    )


# --- names and types -------------------------------------------------------------------


def sanitize_file_name(name: str, *, extension: str | None = None) -> str:
    """A display name that is safe anywhere: no path, no control or bidi characters, bounded."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] not in ("C",))
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    stem, ext = os.path.splitext(name)
    if extension is not None:
        ext = extension
    stem = stem[: 120 - len(ext)].strip() or "file"
    return f"{stem}{ext.lower()}"


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # only a multibyte character cut at the end is fine
            return False
    return True


_MARKUP = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<|<\s*(?:svg|html|script|iframe|body|!doctype)", re.IGNORECASE)


def _office_zip_type(file: File[bytes]) -> str | None:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        file.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    if any(n.startswith("word/") for n in names):
        return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if any(n.startswith("xl/") for n in names):
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return None


def detect_mime_type(file: File[bytes]) -> str:
    """The type the bytes say, or refuse: executables and markup never pass."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if head.startswith(
        (b"\x7fELF", b"MZ", b"\xfe\xed\xfa", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
    ):
        raise UnsupportedMediaType("Programs cannot be uploaded.", code=UploadErrorCode.EXECUTABLE_REFUSED)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # OLE: legacy Word or Excel
        body = file.read(512 * 1024)
        file.seek(0)
        return "application/msword" if "WordDocument".encode("utf-16-le") in body else "application/vnd.ms-excel"
    if head.startswith(b"PK\x03\x04"):
        office = _office_zip_type(file)
        if office:
            return office
        raise UnsupportedMediaType("Archives cannot be uploaded.", code=UploadErrorCode.UNSUPPORTED_FILE_TYPE)
    if _MARKUP.search(head):
        raise UnsupportedMediaType("HTML, SVG and XML files cannot be uploaded.", code=UploadErrorCode.MARKUP_REFUSED)
    if head and _is_text(head):
        return "text/plain"
    raise UnsupportedMediaType("This kind of file cannot be uploaded.", code=UploadErrorCode.UNSUPPORTED_FILE_TYPE)


@dataclass
class CheckedFile:
    file: UploadedFile
    name: str
    mime_type: str
    size: int
    width: int | None = None
    height: int | None = None
    image: Image.Image | None = None


def _decode_image(file: File[bytes]) -> Image.Image:
    """Fully decode under Pillow's pixel limit: a decompression bomb is refused, not expanded."""
    Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(file)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge(
            "This image has too many pixels.",
            code=UploadErrorCode.IMAGE_TOO_LARGE,
            details={"max_pixels": settings.IMAGE_MAX_PIXELS},
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationFailed("This image is damaged or incomplete.", code=UploadErrorCode.INVALID_IMAGE) from None
    finally:
        file.seek(0)
    return image


def check_upload(
    uploaded_file: UploadedFile, *, allowed_types: Iterable[str] | None = None, max_size: int | None = None
) -> CheckedFile:
    """Everything a file must pass before it is stored."""
    max_size = max_size or settings.MAX_FILE_SIZE
    allowed = set(allowed_types or settings.ALLOWED_FILE_TYPES)
    size = uploaded_file.size or 0  # (None only for a file not yet read; a received upload has its size)
    if size > max_size:
        raise PayloadTooLarge(
            _too_large_message(max_size), code=UploadErrorCode.FILE_TOO_LARGE, details={"max_size": max_size}
        )
    if size == 0:
        raise ValidationFailed("The file is empty.", code=UploadErrorCode.EMPTY_FILE)
    mime_type = detect_mime_type(uploaded_file)
    if mime_type not in allowed:
        raise UnsupportedMediaType(
            "This kind of file is not accepted.",
            code=UploadErrorCode.UNSUPPORTED_FILE_TYPE,
            details={"mime_type": mime_type},
        )
    checked = CheckedFile(
        file=uploaded_file,
        mime_type=mime_type,
        size=size,
        name=sanitize_file_name(uploaded_file.name or "", extension=EXTENSIONS.get(mime_type)),
    )
    if mime_type in IMAGE_TYPES:
        checked.image = _decode_image(uploaded_file)
        checked.width, checked.height = checked.image.size
    scan_backend = settings.FILE_SCAN_BACKEND
    if scan_backend:
        import_string(scan_backend)(uploaded_file)  # raises ApplicationError to refuse
        uploaded_file.seek(0)
    return checked


def check_upload_intent(*, file_name: str, file_size: Any) -> dict[str, Any]:
    """Before any bytes (the socket's file_upload_start): name, size and the type the name implies.
    `file_size` is the client's JSON value, whatever it is."""
    try:
        size = int(file_size)
    except (TypeError, ValueError):
        raise ValidationFailed("file_size must be a number of bytes.", code=UploadErrorCode.INVALID_FILE_SIZE) from None
    if size <= 0:
        raise ValidationFailed("The file is empty.", code=UploadErrorCode.EMPTY_FILE)
    if size > settings.MAX_FILE_SIZE:
        raise PayloadTooLarge(
            _too_large_message(settings.MAX_FILE_SIZE),
            code=UploadErrorCode.FILE_TOO_LARGE,
            details={"max_size": settings.MAX_FILE_SIZE},
        )
    name = sanitize_file_name(str(file_name or ""))
    guessed, _ = mimetypes.guess_type(name)
    if guessed not in settings.ALLOWED_FILE_TYPES:
        raise UnsupportedMediaType("This kind of file is not accepted.", code=UploadErrorCode.UNSUPPORTED_FILE_TYPE)
    return {"file_name": name, "file_size": size, "mime_type": guessed}


# --- storage and downloads --------------------------------------------------------------


@dataclass
class StoredFile:
    key: str
    thumbnail_key: str = ""


def store_upload(checked: CheckedFile, *, prefix: str) -> StoredFile:
    """Write under a random key; the user's name never becomes a path."""
    ext = EXTENSIONS.get(checked.mime_type, "")
    checked.file.seek(0)
    key = default_storage.save(f"{prefix}/{uuid.uuid4().hex}{ext}", checked.file)
    stored = StoredFile(key=key)
    if checked.image is not None:
        thumbnail = checked.image.copy()
        thumbnail.thumbnail(THUMBNAIL_SIZE)
        if thumbnail.mode not in ("RGB", "RGBA"):
            thumbnail = thumbnail.convert("RGBA")
        buffer = io.BytesIO()
        thumbnail.save(buffer, format="PNG", optimize=True)
        stored.thumbnail_key = default_storage.save(
            f"{prefix}/thumbs/{uuid.uuid4().hex}.png", ContentFile(buffer.getvalue())
        )
    return stored


# Shown inside a console page (document review): types decided from the bytes at upload, never markup.
INLINE_TYPES = IMAGE_TYPES | {"application/pdf"}


def file_response(
    request: HttpRequest | Request, *, key: str, download_name: str, mime_type: str, inline: bool = False
) -> HttpResponseBase:
    """Serve a stored file to someone already authorised to see it. `inline` (images and PDFs only)
    lets a same-origin console page show it; anything else is always a download."""
    inline = inline and mime_type in INLINE_TYPES
    if settings.STORAGE_BACKEND == "s3":
        disposition = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{_rfc5987(download_name)}"
        url = default_storage.url(  # type: ignore[call-arg]  # S3Storage.url (django-storages) takes these
            key,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": mime_type},
            expire=settings.AWS_QUERYSTRING_EXPIRE,
        )
        return HttpResponseRedirect(url)
    try:
        stored = default_storage.open(key, "rb")
    except FileNotFoundError:  # the record outlived its file (a lost volume, a bad restore): ops must know
        logger.error("stored file missing", extra={"key": key})
        raise NotFound(
            "This file is missing from storage; an administrator has been told.", code=UploadErrorCode.FILE_MISSING
        ) from None
    except OSError as exc:
        logger.error("file storage unreadable", extra={"key": key, "error": f"{exc.__class__.__name__}: {exc}"})
        raise ServiceUnavailable(
            "File storage is briefly unavailable; try again shortly.", details={"dependency": "storage"}
        ) from None
    response = FileResponse(stored, as_attachment=not inline, filename=download_name, content_type=mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    # A sandbox would stop the browser's PDF viewer; PDFs get no scripts, forms or plugins of their own.
    pdf = inline and mime_type == "application/pdf"
    response["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'self'; style-src 'unsafe-inline'" if pdf else "default-src 'none'; sandbox"
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _rfc5987(value: str) -> str:
    return quote(value, safe="")
