from django.conf import settings
from django.db import models


class PrivacyAction(models.TextChoices):
    EXPORT = "export", "Exported a person's data"
    EXPORT_DOWNLOAD = "export_download", "Downloaded a prepared export"
    ERASE = "erase", "Erased a person"
    LEGAL_HOLD_ON = "legal_hold_on", "Put a person under legal hold"
    LEGAL_HOLD_OFF = "legal_hold_off", "Lifted a legal hold"


class PrivacyAudit(models.Model):
    """Who exported or erased whose data, when and why. Kept after the subject's erasure (the user row
    stays, pseudonymised), for AUDIT_RETENTION_DAYS."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=PrivacyAction.choices)
    reason = models.TextField(blank=True)
    # What was done: an export's size and mode, an erasure's counts per kind of record.
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["subject", "-id"], name="privacy_audit_subject")]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.subject_id}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class PersonalDataExport(models.Model):
    """A large export, built in the background and downloaded through a short-lived signed link."""

    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    file_key = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="privacy_export_status")]

    def __str__(self) -> str:
        return f"export of {self.subject_id} ({self.status})"
