"""Every hostile or broken file the upload path must refuse, and what it must accept."""

import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from core.uploads import check_upload, check_upload_intent, sanitize_file_name


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 90, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A tiny file whose header claims 10 billion pixels."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


def docx_bytes() -> bytes:
    """The same bytes whenever they are made (a dated entry, not the clock's): they are part of a test's id,
    which every pytest-xdist worker must collect alike."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.parametrize(
    "name, data, mime",
    [
        ("photo.png", png_bytes(), "image/png"),
        ("photo.jpg", jpeg_bytes(), "image/jpeg"),
        ("report.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "application/pdf"),
        ("notes.txt", "héllo wörld\n".encode(), "text/plain"),
        ("essay.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_accepted_files_get_their_type_from_the_bytes(name, data, mime):
    checked = check_upload(upload(name, data, content_type="text/html"))  # the client's header is ignored
    assert checked.mime_type == mime


def test_image_dimensions_are_read():
    checked = check_upload(upload("p.png", png_bytes((40, 30))))
    assert (checked.width, checked.height) == (40, 30)


def test_a_png_named_pdf_is_stored_with_the_true_extension():
    assert check_upload(upload("invoice.pdf", png_bytes())).name == "invoice.png"


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("cv.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "executable_refused"),
        ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 100, "executable_refused"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n", "executable_refused"),
        ("page.txt", b"<html><script>alert(1)</script></html>", "markup_refused"),
        ("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "markup_refused"),
        ("doc.txt", b"\xef\xbb\xbf  <!DOCTYPE html><p>x</p>", "markup_refused"),
        ("archive.zip", b"PK\x03\x04" + b"\x00" * 100, "unsupported_file_type"),
        ("blob.bin", bytes(range(256)) * 4, "unsupported_file_type"),
    ],
)
def test_hostile_files_are_refused(name, data, code):
    with pytest.raises(UnsupportedMediaType) as error:
        check_upload(upload(name, data))
    assert error.value.code == code


def test_types_outside_the_allowed_list_are_refused(settings):
    settings.ALLOWED_FILE_TYPES = ["image/png"]
    with pytest.raises(UnsupportedMediaType):
        check_upload(upload("r.pdf", b"%PDF-1.4 hello"))


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(PayloadTooLarge) as error:
        check_upload(upload("bomb.png", bomb_png()))
    assert error.value.code == "image_too_large"


def test_truncated_image_is_refused():
    with pytest.raises(ValidationFailed) as error:
        check_upload(upload("half.jpg", jpeg_bytes()[:120]))
    assert error.value.code == "invalid_image"


def test_empty_and_oversized_files(settings):
    with pytest.raises(ValidationFailed):
        check_upload(upload("empty.txt", b""))
    settings.MAX_FILE_SIZE = 10
    with pytest.raises(PayloadTooLarge):
        check_upload(upload("big.txt", b"x" * 11))


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32.txt", "system32.txt"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("bad\x00name\x07.txt", "badname.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("...hidden", "hidden"),
        ("", "file"),
        ("a" * 500 + ".txt", "a" * 116 + ".txt"),
    ],
)
def test_names_are_sanitised(raw, clean):
    assert sanitize_file_name(raw) == clean


def test_virus_scan_hook_can_refuse(settings):
    settings.FILE_SCAN_BACKEND = "core.tests.test_uploads.refusing_scanner"
    with pytest.raises(UnsupportedMediaType) as error:
        check_upload(upload("a.txt", b"EICAR"))
    assert error.value.code == "infected"


def refusing_scanner(file):
    raise UnsupportedMediaType("This file looks infected.", code="infected")


@pytest.mark.parametrize(
    "name, size, error",
    [
        ("a.pdf", 0, ValidationFailed),
        ("a.pdf", 10**12, PayloadTooLarge),
        ("a.exe", 10, UnsupportedMediaType),
        ("a.svg", 10, UnsupportedMediaType),
        ("a.pdf", "lots", ValidationFailed),
    ],
)
def test_upload_intent_is_checked_before_any_bytes(name, size, error):
    with pytest.raises(error):
        check_upload_intent(file_name=name, file_size=size)
    assert check_upload_intent(file_name="../x.pdf", file_size=5)["file_name"] == "x.pdf"
