from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models


class ConversationType(models.TextChoices):
    DIRECT = "direct", "Direct"
    GROUP = "group", "Group"


class Conversation(models.Model):
    type = models.CharField(max_length=10, choices=ConversationType.choices)
    title = models.CharField(max_length=200, blank=True)
    # The office whose managers may monitor it (the staff side's office).
    office = models.ForeignKey(
        "offices.Office", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "<smaller user id>:<larger user id>" for direct conversations: the database keeps one per pair.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_activity_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(type="group", direct_key__isnull=True)
                | models.Q(type="direct", direct_key__isnull=False),
                name="conversation_direct_has_key",
            )
        ]
        indexes = [models.Index(fields=["office", "-last_activity_at"], name="conversation_office_activity")]

    def __str__(self) -> str:
        return self.title or f"{self.get_type_display()} conversation {self.pk}"

    @staticmethod
    def direct_key_for(user_a_id: int, user_b_id: int) -> str:
        low, high = sorted((int(user_a_id), int(user_b_id)))
        return f"{low}:{high}"


class ParticipantRole(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class TriageStatus(models.TextChoices):
    """Where a conversation stands in one staff member's inbox (each their own, as in Chatwoot's agent view)."""

    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    SNOOZED = "snoozed", "Snoozed"


class Participant(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_memberships"
    )
    role = models.CharField(max_length=10, choices=ParticipantRole.choices, default=ParticipantRole.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_read_seq = models.PositiveBigIntegerField(default=0)
    last_delivered_seq = models.PositiveBigIntegerField(default=0)
    # "Clear my history": messages up to this seq are hidden from this participant only.
    cleared_seq = models.PositiveBigIntegerField(default=0, db_default=0)
    is_archived = models.BooleanField(default=False)
    is_pinned = models.BooleanField(default=False)
    muted_until = models.DateTimeField(null=True, blank=True)
    # This member's triage (staff): resolved or snoozed as of the conversation's `triage_seq`; a later message
    # from someone else, or the end of a snooze, opens it again (messaging.selectors.conversations).
    triage_status = models.CharField(
        max_length=10, choices=TriageStatus.choices, default=TriageStatus.OPEN, db_default=TriageStatus.OPEN
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    triage_seq = models.PositiveBigIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"], name="participant_once"),
            models.CheckConstraint(
                condition=~models.Q(triage_status="snoozed") | models.Q(snoozed_until__isnull=False),
                name="participant_snoozed_until_when",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "user"], name="participant_conversation_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"


class MessageType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    FILE = "file", "File"
    SYSTEM = "system", "System"


class Message(models.Model):
    """A message of a conversation, numbered by `seq` within it.

    A send never calls `save()`: the database function `messaging_message_store`
    (the newest messaging/sql/message_store_*.sql) writes the row, so no pre_save/post_save signal fires for a
    new message and no Python-side default applies. A field added here must be written there too
    (messaging/tests/test_message_store.py fails until it is). Edits and deletes use `save()`.
    """

    # Indexed by message_seq_unique (conversation, seq): a second index would only slow every send.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    seq = models.PositiveBigIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages_sent"
    )
    type = models.CharField(max_length=10, choices=MessageType.choices, default=MessageType.TEXT)
    content = models.TextField(blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # NULL when the client sent none: the (sender, client_id) unique constraint skips NULLs, not "".
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Soft delete: readers see no content; the row stays for audit until purged.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Set on some instances, not columns: the message's files when loaded (a prefetch's to_attr, or the
    # send), and a search hit's rank (messaging.search).
    loaded_attachments: list["Attachment"]
    rank: float
    search_vector = models.GeneratedField(
        expression=SearchVector("content", config=settings.MESSAGE_SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_seq_unique"),
            models.UniqueConstraint(
                fields=["sender", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="message_client_id_unique",
            ),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="message_search_gin"),
            # Search: the caller's conversations over an id range, AND'ed with the GIN index.
            models.Index(fields=["conversation", "id"], name="message_conversation_id"),
            # Few messages are replies or deleted: partial indexes cost a send nothing.
            models.Index(fields=["reply_to"], condition=models.Q(reply_to__isnull=False), name="message_reply_to"),
            models.Index(
                fields=["deleted_by"], condition=models.Q(deleted_by__isnull=False), name="message_deleted_by"
            ),
            # Sync finds edits and deletes through it (messaging/selectors/sync.py).
            models.Index(
                fields=["conversation"],
                condition=models.Q(edited_at__isnull=False) | models.Q(deleted_at__isnull=False),
                name="message_edited_or_deleted",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.conversation_id}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    file_key = models.CharField(max_length=255)
    file_name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_key = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file_name


class CannedReply(models.Model):
    """A reply an office's staff insert by its shortcut (`/fees` in the inbox), kept by the office's managers."""

    office = models.ForeignKey("offices.Office", on_delete=models.CASCADE, related_name="canned_replies")
    shortcut = models.SlugField(max_length=40, help_text="Typed after / in a reply, e.g. fees")
    content = models.TextField(max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["office", "shortcut"]
        verbose_name_plural = "canned replies"
        constraints = [models.UniqueConstraint(fields=["office", "shortcut"], name="canned_reply_shortcut_once")]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class AuditAction(models.TextChoices):
    MONITOR_LIST = "monitor_list", "Listed an office's conversations"
    MONITOR_READ = "monitor_read", "Read a conversation"
    EXPORT = "export", "Exported a conversation"


class MonitoringAudit(models.Model):
    """A read or export by someone who is not in the conversation."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    office = models.ForeignKey("offices.Office", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.conversation_id or self.office_id}"


class MissedMessageMark(models.Model):
    """How far a user's missed-message emails went in a conversation: the next one starts after `seq`.
    Apart from `Participant`, whose rows the send path writes: an email job holds these rows while it
    talks to the mail server, and must never hold up a send."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="missed_message_mark_once")]

    def __str__(self) -> str:
        return f"{self.user_id} emailed to {self.seq} in {self.conversation_id}"
