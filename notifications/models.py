from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    LEAD_ASSIGNED = "lead_assigned", "Lead assigned"
    APPOINTMENT_BOOKED = "appointment_booked", "Appointment booked"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled", "Appointment rescheduled"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Appointment cancelled"
    APPOINTMENT_REMINDER = "appointment_reminder", "Appointment reminder"
    DOCUMENT_REVIEWED = "document_reviewed", "Document reviewed"
    CONVERSATION_ADDED = "conversation_added", "Added to a conversation"
    ANNOUNCEMENT = "announcement", "Announcement"
    APPLICATION = "application", "Application"  # an application moved (applications.services)
    PROPOSAL_RECEIVED = "application_proposal", "Courses proposed"  # (category: application)
    PROPOSAL_DECLINED = "application_proposal_declined", "Proposal declined"
    TASK_DUE = "task_due", "Task due"


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # Ids the client needs to open the thing (lead_id, appointment_id, conversation_id, ...).
    data = models.JSONField(default=dict, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["recipient", "-id"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.title


class Announcement(models.Model):
    """A message from a super admin (to everyone or one office) or a manager (to their office)."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    office = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.CASCADE, related_name="announcements"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A user's choices of what reaches them by push and email (`notifications.preferences`). No row:
    their role's defaults. `channels` holds only what they changed: {"message": {"push": false}, ...}."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    channels = models.JSONField(default=dict, blank=True)
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    # Pushes and emails say that a message came, not what it says.
    private_previews = models.BooleanField(default=False)
    # IANA name the quiet hours are read in; blank: the office's time zone (UTC without an office).
    timezone = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class Delivery(models.Model):
    """The ledger that keeps a push or an email single: one row per event, recipient and target
    (`notifications.delivery`). A send inserts its row and commits it only once the provider took
    it, so a retry, or a second worker, finds the row and sends nothing."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key
