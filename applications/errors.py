from core.errors import ErrorCode


class ApplicationErrorCode(ErrorCode):
    """Why an application, its move or its checklist was refused (raised by name, applications/*)."""

    INVALID_TRANSITION = "invalid_transition"
    STALE_STATUS = "stale_status"
    UNKNOWN_STATUS = "unknown_status"
    REASON_REQUIRED = "reason_required"
    DETAILS_REQUIRED = "details_required"
    CHECKLIST_INCOMPLETE = "checklist_incomplete"
    OVERRIDE_NOT_ALLOWED = "override_not_allowed"
    APPLICATION_EXISTS = "application_exists"
    UNKNOWN_STUDENT = "unknown_student"
    UNKNOWN_COURSE = "unknown_course"
    UNKNOWN_CONSULTANT = "unknown_consultant"
    UNKNOWN_DOCUMENT = "unknown_document"
    WRONG_DOCUMENT = "wrong_document"
    STUDENT_WITHOUT_OFFICE = "student_without_office"
    COURSE_UNAVAILABLE = "course_unavailable"
    INTAKE_NOT_OFFERED = "intake_not_offered"
    INTAKE_IN_PAST = "intake_in_past"
    NOT_EDITABLE = "not_editable"
    OTHER_OFFICE = "other_office"
    DUPLICATE_TEMPLATE = "duplicate_template"
    DUPLICATE_REQUIREMENT = "duplicate_requirement"
