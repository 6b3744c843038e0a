"""Tasks: a follow-up on one lead, student or application, for one member of staff, due at a time. The
reminder job claims each due task once (`reminded_at`), whatever the number of workers."""

from django.conf import settings
from django.db import models


class TaskPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class Task(models.Model):
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField()
    priority = models.CharField(max_length=6, choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    status = models.CharField(max_length=4, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks")
    # What the task is about: exactly one of the three.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks_about"
    )
    application = models.ForeignKey(
        "applications.Application", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    # The subject's office (null: a lead still in the unassigned queue); managers see their office's tasks.
    office = models.ForeignKey("offices.Office", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(lead__isnull=False, student__isnull=True, application__isnull=True)
                    | models.Q(lead__isnull=True, student__isnull=False, application__isnull=True)
                    | models.Q(lead__isnull=True, student__isnull=True, application__isnull=False)
                ),
                name="task_one_subject",
            ),
            models.CheckConstraint(condition=models.Q(status__in=TaskStatus.values), name="task_status_valid"),
            models.CheckConstraint(condition=models.Q(priority__in=TaskPriority.values), name="task_priority_valid"),
            models.CheckConstraint(
                condition=models.Q(status=TaskStatus.OPEN) | models.Q(done_at__isnull=False), name="task_done_has_time"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["office", "status", "due_at"], name="task_office_idx"),
            # The reminder job's scan: open, not yet reminded, by due time.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="open", reminded_at__isnull=True),
                name="task_reminder_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title
