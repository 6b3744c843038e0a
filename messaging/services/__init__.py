"""Writes on conversations and messages. REST, the socket consumer, the admin and commands all
call these; each emits its real-time event after commit through `core.realtime`.

`conversations`: start, people, flags; `messages`: send, edit, delete; `receipts`: read and
delivery pointers, clearing history; `monitoring`: the audit of monitors' reads. Everything
public is importable from here.
"""

from messaging.services.canned import (
    canned_reply_create,
    canned_reply_delete,
    canned_reply_may_write,
    canned_reply_update,
)
from messaging.services.conversations import (
    conversation_create,
    conversation_direct_get_or_create,
    conversation_ensure_direct,
    conversation_leave,
    conversation_update,
    participant_replace,
    participants_add,
    participants_remove,
)
from messaging.services.loop_sends import amessage_send
from messaging.services.messages import (
    content_clean,
    message_delete,
    message_edit,
    message_send,
    message_send_with_files,
)
from messaging.services.monitoring import monitoring_audit_record
from messaging.services.receipts import (
    conversation_clear_history,
    conversation_mark_read,
    conversations_mark_all_read,
    deliveries_record,
    message_mark_read,
)

__all__ = [
    "amessage_send",
    "canned_reply_create",
    "canned_reply_delete",
    "canned_reply_may_write",
    "canned_reply_update",
    "content_clean",
    "conversation_clear_history",
    "conversation_create",
    "conversation_direct_get_or_create",
    "conversation_ensure_direct",
    "conversation_leave",
    "conversation_mark_read",
    "conversation_update",
    "conversations_mark_all_read",
    "deliveries_record",
    "message_delete",
    "message_edit",
    "message_mark_read",
    "message_send",
    "message_send_with_files",
    "monitoring_audit_record",
    "participant_replace",
    "participants_add",
    "participants_remove",
]
