"""Error codes of leads: the pipeline, assignment, conversion, imports."""

from core.errors import ErrorCode


class LeadErrorCode(ErrorCode):
    """Leads: pipeline, assignment, conversion, notes and CSV imports."""

    DUPLICATE_LEAD = "duplicate_lead", "A lead with this email or phone exists in the office (`details`)"
    OTHER_OFFICE = "other_office", "You create leads for your own office"
    CONTACT_REQUIRED = "contact_required", "A lead needs an email or a phone number"
    INVALID_STATUS = "invalid_status", "Unknown status"
    INVALID_TRANSITION = "invalid_transition", "The lead's status does not allow this move"
    LOST_REASON_REQUIRED = "lost_reason_required", "Say why the lead was lost"
    UNKNOWN_CONSULTANT = "unknown_consultant", "No such consultant (or not one you may name)"
    NOT_A_CONSULTANT = "not_a_consultant", "Leads are assigned to active consultants"
    CONSULTANT_OTHER_OFFICE = "consultant_other_office", "The consultant works in another office"
    OFFICE_REQUIRED = "office_required", "Assign the lead to an office first"
    EMAIL_REQUIRED = "email_required", "The lead needs an email to get an account"
    EMAIL_TAKEN = "email_taken", "This email belongs to a staff account"
    NO_ACCOUNT = "no_account", "The lead has no account to talk to yet"
    NO_MANAGER = "no_manager", "The office has no manager"
    EMPTY_NOTE = "empty_note", "A note needs text"
    INVALID_CSV = "invalid_csv", "The import is not a UTF-8 CSV with the expected columns"
    NO_FILE = "no_file", "Send the file as the multipart field `file`"
    UNKNOWN_STUDENT = "unknown_student", "No such student (or not one you may name)"
    UNKNOWN_LEAD = "unknown_lead", "No such lead (or not one you may name)"
    UNKNOWN_ACTION = "unknown_action", "The console does not know this action"
    INVALID_PHONE = (
        "invalid_phone",
        "400: not a phone number anywhere, or a national number for a lead with no office (no country to read it in)",
    )
    UNKNOWN_OFFICE = "unknown_office", "No such office (or not one you may name)"
    RULE_TARGET = "routing_rule_target", "A routing rule names one consultant or a round robin, not both"
