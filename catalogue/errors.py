from core.errors import ErrorCode


class CatalogueErrorCode(ErrorCode):
    DUPLICATE_UNIVERSITY = "duplicate_university"
    DUPLICATE_COURSE = "duplicate_course"
    UNKNOWN_UNIVERSITY = "unknown_university"
    UNIVERSITY_IN_USE = "university_in_use"
    COURSE_IN_USE = "course_in_use"
    INVALID_CSV = "invalid_csv"
    IMPORT_REJECTED = "import_rejected"
