from django.conf import settings
from django.db import models


class DeviceKind(models.TextChoices):
    FCM = "fcm", "Firebase Cloud Messaging (Android and iOS apps)"
    APNS = "apns", "Apple Push Notification service"
    WEBPUSH = "webpush", "Web Push (browsers)"


class Device(models.Model):
    """Where a user's pushes go: an app's FCM or APNs token, or a browser's Web Push subscription
    (`token` is then the endpoint URL, with its two keys). A token belongs to one user: registering it
    again, signed in as someone else, moves it (a shared phone changes hands)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField(max_length=10, choices=DeviceKind.choices)
    token = models.TextField()
    p256dh = models.CharField(max_length=200, blank=True)  # Web Push: the browser's public key
    auth = models.CharField(max_length=100, blank=True)  # Web Push: the shared authentication secret
    # The sign-in session (the token pair's "sid" claim) that registered it: signing out removes it.
    session_id = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["kind", "token"], name="device_token_once")]
        indexes = [models.Index(fields=["user", "id"], name="device_user_idx")]

    def __str__(self) -> str:
        return f"{self.kind} device of {self.user_id}"
