"""The audit of monitoring: who read or exported a conversation they are not in."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from messaging.models import Conversation, MonitoringAudit, Participant


def monitoring_audit_record(
    *,
    actor: User,
    action: str,
    conversation: Conversation | None = None,
    office_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Reads and exports by someone outside the conversation leave a row the super admin can see."""
    if conversation is not None and Participant.objects.filter(conversation=conversation, user=actor).exists():
        return
    MonitoringAudit.objects.create(
        actor=actor,
        action=action,
        conversation=conversation,
        office_id=office_id if office_id is not None else (conversation.office_id if conversation else None),
        details=details or {},
    )
