"""Error codes of proposals."""

from core.errors import ErrorCode


class ProposalErrorCode(ErrorCode):
    """Proposals: building, sending, accepting, declining."""

    NOT_EDITABLE = "proposal_not_editable", "Only a draft proposal is changed"
    INVALID_MOVE = "proposal_invalid_move", "The proposal's status does not allow this"
    EXPIRED = "proposal_expired", "The proposal expired: ask your consultant for a new one"
    EXPIRY_IN_PAST = "proposal_expiry_in_past", "A proposal is sent with an expiry in the future"
    EXPIRY_REQUIRED = "proposal_expiry_required", "Say until when the proposal stands (expires_at)"
    NO_ITEMS = "proposal_no_items", "A proposal proposes at least one course"
    DUPLICATE_ITEM = "proposal_duplicate_item", "The same course and intake twice"
    UNKNOWN_ITEM = "proposal_unknown_item", "An item id that is not this proposal's"
    UNKNOWN_STUDENT = "proposal_unknown_student", "No such student (or not one you may name)"
    UNKNOWN_COURSE = "proposal_unknown_course", "No such course, or not open to applications"
    UNKNOWN_CONSULTANT = "proposal_unknown_consultant", "Not an active consultant of the student's office"
    INTAKE_NOT_OFFERED = "proposal_intake_not_offered", "The course does not start in that month"
    INTAKE_IN_PAST = "proposal_intake_in_past", "That intake has already started"
    STUDENT_WITHOUT_OFFICE = "proposal_student_without_office", "Convert the student's lead first"
