"""Background jobs of tasks."""

from core.jobs import job
from followups.services import task_reminders_send


@job()
def send_task_reminders() -> int:
    """Beat, every minute: remind assignees of tasks now due (each once, whatever the number of workers)."""
    return task_reminders_send()
