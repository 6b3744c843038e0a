"""Reads of conversations and messages, scoped to what the user may see.

`access`: who may read what (participants, monitors, contacts), the one place for each rule;
`conversations`: lists and figures (inbox, monitoring, unread); `history`: a conversation's
messages. Search is `messaging.search`. Everything public is importable from here.
"""

from messaging.selectors.access import (
    MONITOR_ALL_ROLES,
    MONITOR_ROLES,
    Reach,
    attachment_get_for,
    contact_candidates_for,
    contact_user_ids,
    conversation_access,
    conversation_can_monitor,
    conversation_get_for,
    conversation_get_for_monitoring,
    direct_conversation_with,
    id_or_404,
    member_conversations,
    membership_get,
    message_get_for,
    monitorable_conversations,
    monitoring_audit_for,
    monitoring_reach,
    monitors_conversations,
    monitors_every_conversation,
    monitors_office,
    participant_user_ids,
    presence_visible_users,
    readable_conversation_ids,
)
from messaging.selectors.conversations import (
    cleared_seqs_for,
    conversation_detail,
    conversation_list_for,
    conversation_title_for,
    conversations_last_seq,
    conversations_waiting_for_staff,
    member_conversations_last_seq,
    monitoring_list,
    participants_of,
    unread_by_consultant,
    unread_total,
    unread_total_for,
)
from messaging.selectors.history import (
    FileRow,
    MessageRow,
    SenderRow,
    load_attachments,
    messages_after,
    messages_between,
    messages_page,
    messages_page_for,
    messages_sent_since,
)

__all__ = [
    "MONITOR_ALL_ROLES", "MONITOR_ROLES", "Reach", "attachment_get_for", "contact_candidates_for", "contact_user_ids",
    "conversation_access", "conversation_can_monitor", "conversation_get_for", "conversation_get_for_monitoring",
    "direct_conversation_with", "id_or_404", "member_conversations", "membership_get", "message_get_for",
    "monitorable_conversations", "monitoring_audit_for", "monitoring_reach", "monitors_conversations",
    "monitors_every_conversation", "monitors_office", "participant_user_ids", "presence_visible_users",
    "readable_conversation_ids",
    "cleared_seqs_for", "conversation_detail", "conversation_list_for", "conversation_title_for",
    "conversations_last_seq", "conversations_waiting_for_staff", "member_conversations_last_seq", "monitoring_list",
    "participants_of", "unread_by_consultant", "unread_total", "unread_total_for",
    "FileRow", "MessageRow", "SenderRow", "load_attachments", "messages_after", "messages_between", "messages_page",
    "messages_page_for", "messages_sent_since",
]
