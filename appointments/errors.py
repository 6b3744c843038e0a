"""Error codes of appointments: times, attendees, outcomes."""

from core.errors import ErrorCode


class AppointmentErrorCode(ErrorCode):
    """Appointments: booking, rescheduling, cancelling and outcomes."""

    NAIVE_DATETIME = "naive_datetime", "Times need a UTC offset (ISO 8601)"
    INVALID_TIME_RANGE = "invalid_time_range", "The end must be after the start, at most 12 hours later"
    START_IN_PAST = "start_in_past", "Appointments cannot start in the past"
    SLOT_TAKEN = "slot_taken", "The consultant already has an appointment at that time"
    UNKNOWN_CONSULTANT = "unknown_consultant", "No such consultant (or not one you may name)"
    UNKNOWN_STUDENT = "unknown_student", "No such student (or not one you may name)"
    UNKNOWN_LEAD = "unknown_lead", "No such lead (or one of another office)"
    ATTENDEE_REQUIRED = "attendee_required", "Book for a student or a lead"
    TITLE_REQUIRED = "title_required", "An appointment needs a title"
    NOT_SCHEDULED = "not_scheduled", "Only a scheduled appointment can be moved, cancelled or given an outcome"
    INVALID_STATUS = "invalid_status", "The outcome is completed or no_show"
    NOT_STARTED = "not_started", "The appointment has not started yet"
    OUTSIDE_OPENING_HOURS = (
        "outside_opening_hours",
        "The office is closed then: staff may book anyway with `allow_outside_hours`, students may not",
    )
    TOO_MANY_CONSULTANTS = "too_many_consultants", "Free slots of more consultants than one request may ask"
    INVALID_DATE_RANGE = "invalid_date_range", "Free slots: date_to before date_from, or too long a range"
