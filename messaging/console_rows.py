"""Conversation rows of the console's lists: the inbox, the home pages and the live monitor. Whether
someone waits for a staff reply is the selectors' `waiting_for_staff`, computed in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from messaging.selectors import conversation_list_for, conversation_title_for
from messaging.selectors.conversations import DisplayedConversation


def conversation_rows(
    conversations: Iterable[DisplayedConversation], user: User, *, monitor: bool = False
) -> list[dict[str, Any]]:
    """Conversations for a list: title for this viewer, last message, how long it waits, and where
    the viewer opens it (their inbox as a participant, else, or on the monitor, the audited monitor)."""
    now, rows = timezone.now(), []
    for conversation in conversations:
        member = any(p.user_id == user.pk for p in conversation.participants.all())
        last = conversation.last_message
        rows.append(
            {
                "conversation": conversation,
                "title": conversation_title_for(conversation, user),
                "last_message": last,
                "waiting_since": last.created_at if last else None,
                "waited": now - last.created_at if last else timedelta(0),
                "people": ", ".join(p.user.full_name for p in conversation.participants.all()),
                "waiting": bool(conversation.waiting_for_staff),
                "url": (
                    reverse("admin:messaging_conversation_change", args=[conversation.pk])
                    if member and not monitor
                    else reverse("admin-monitor-detail", args=[conversation.pk])
                ),
            }
        )
    return rows


def inbox_rows(user: User, limit: int, *, status: str | None = None, q: str = "") -> list[dict[str, Any]]:
    """The user's own conversations (most recent first) with unread counts, "waiting for us" and their
    triage; `status` and `q` as `conversation_list_for` takes them."""
    rows = []
    for membership in conversation_list_for(user, archived=False, status=status, q=q)[:limit]:
        conversation = membership.conversation
        last = conversation.last_message
        rows.append(
            {
                "conversation": conversation,
                "title": conversation_title_for(conversation, user),
                "last_message": last,
                "unread": membership.unread_count,
                "waiting": bool(membership.waiting_for_staff),
                "triage": membership.triage,
                "url": reverse("admin:messaging_conversation_change", args=[conversation.pk]),
            }
        )
    return rows
