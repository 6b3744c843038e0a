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
