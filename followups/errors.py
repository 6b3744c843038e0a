"""Error codes of tasks."""

from core.errors import ErrorCode


class TaskErrorCode(ErrorCode):
    """Tasks: what they are about, who does them."""

    ONE_SUBJECT = "task_one_subject", "A task is about exactly one of lead_id, student_id, application_id"
    UNKNOWN_SUBJECT = "task_unknown_subject", "No such lead, student or application (or not one you may see)"
    UNKNOWN_ASSIGNEE = "task_unknown_assignee", "The assignee is an active member of staff you may name"
    ASSIGNEE_CANNOT_SEE = "task_assignee_cannot_see", "The assignee may not see what the task is about"
