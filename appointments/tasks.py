"""Background jobs of appointments."""

from appointments.services import reminders_send
from core.jobs import job


@job()
def send_reminders() -> int:
    """Beat, every minute: remind people of appointments starting within APPOINTMENT_REMINDER_MINUTES
    (never twice: rows are claimed and marked in one transaction). `manage.py send_appointment_reminders`
    does the same by hand."""
    return reminders_send()
