"""Error codes of documents: upload and review."""

from core.errors import ErrorCode


class DocumentErrorCode(ErrorCode):
    """Documents: upload and review."""

    INVALID_KIND = "invalid_kind", "Unknown document kind"
    OWNER_REQUIRED = "owner_required", "A document belongs to a student or a lead"
    UNKNOWN_STUDENT = "unknown_student", "No such student (or not one you may name)"
    INVALID_STATUS = "invalid_status", "A review is approved or rejected"
    NOTE_REQUIRED = "note_required", "Say why the document is rejected"
    NO_FILE = "no_file", "Send the file as the multipart field `file`"
