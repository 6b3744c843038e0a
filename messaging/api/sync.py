"""`GET sync?since=<cursor>`: everything of the caller's that changed since the cursor, in one call
(a waking mobile app made one request per conversation). docs/messaging.md#sync.

The cursor is signed by the server (it names a transaction horizon, `messaging.selectors.sync`), is
tied to the user, and lives CURSOR_MAX_AGE. Without `since`: just a fresh cursor. When an answer is
cut (more changed conversations or notifications than one answer holds), `more` is true and the
cursor continues where it stopped; once the client has it all, the cursor moves on to the horizon
taken at the first of those calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core import signing
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthedRequest
from core.errors import CoreErrorCode, ValidationFailed
from messaging import events
from messaging.api.serializers import ClearedSerializer, ConversationSerializer, MessageSerializer, Payload
from messaging.errors import MessagingErrorCode
from messaging.selectors.sync import Changes, changes_for, current_horizon
from notifications.api.views import NotificationSerializer
from notifications.services import notification_payload

CURSOR_SALT = "crm.messaging.sync"
CURSOR_MAX_AGE = timedelta(days=30)
DONE = 2**62  # a section (conversations, notifications) already handed out in full


class ReadMarkSerializer(serializers.Serializer[Payload]):
    conversation_id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="Everything up to this seq is read by user_id")


class SyncSerializer(serializers.Serializer[Payload]):
    cursor = serializers.CharField(help_text="Send it as `since` next time (store it with what you applied)")
    more = serializers.BooleanField(
        help_text="This answer is not everything: page the `truncated` conversations with "
        "GET conversations/{id}/messages?after=<your last seq>, and call sync again with `cursor`"
    )
    conversations = ConversationSerializer(many=True, help_text="Your conversations that changed, as GET conversations")
    messages = MessageSerializer(
        many=True, help_text="New, edited and deleted messages of those (per conversation the newest 50, oldest first)"
    )
    truncated = serializers.ListField(
        child=serializers.IntegerField(), help_text="Conversations with more new messages than `messages` holds"
    )
    read_marks = ReadMarkSerializer(many=True, help_text="Where each participant of those conversations has read to")
    cleared = ClearedSerializer(many=True, help_text="Those of them whose history you cleared (drop up to cleared_seq)")
    notifications = NotificationSerializer(many=True, help_text="Your notifications that are new or were read")


def encode_cursor(user_id: int, since: int, *, then: int | None = None, after: tuple[int, int] = (0, 0)) -> str:
    data = {"u": user_id, "s": since, "t": then, "c": after[0], "n": after[1]}
    return signing.dumps(data, salt=CURSOR_SALT, compress=True)


def decode_cursor(raw: str, user_id: int) -> dict[str, Any]:
    try:
        data = signing.loads(raw, salt=CURSOR_SALT, max_age=CURSOR_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationFailed(
            "This sync cursor is too old: sync again without `since`.", code=MessagingErrorCode.CURSOR_EXPIRED
        ) from None
    except signing.BadSignature:
        raise _foreign() from None
    if not isinstance(data, dict) or data.get("u") != user_id:
        raise _foreign()  # another user's: not theirs to use
    return data


def _foreign() -> ValidationFailed:
    return ValidationFailed("This cursor is not one the server gave out.", code=CoreErrorCode.INVALID_CURSOR)


def _body(cursor: str, changes: Changes | None, *, more: bool) -> dict[str, Any]:
    if changes is None:
        return {
            "cursor": cursor,
            "more": False,
            "conversations": [],
            "messages": [],
            "truncated": [],
            "read_marks": [],
            "cleared": [],
            "notifications": [],
        }
    users: dict[int | None, Payload | None] = {}
    return {
        "cursor": cursor,
        "more": more or bool(changes.capped),
        "conversations": [
            events.conversation_payload(m.conversation, participants=m.conversation.participants.all(), me=m)
            for m in changes.conversations
        ],
        "messages": [events.message_payload(row, users=users) for row in changes.messages],
        "truncated": changes.capped,
        "read_marks": [
            {"conversation_id": conversation_id, "user_id": user_id, "seq": seq}
            for conversation_id, user_id, seq in changes.read_marks
        ],
        "cleared": [
            {"conversation_id": m.conversation_id, "cleared_seq": m.cleared_seq}
            for m in changes.conversations
            if m.cleared_seq
        ],
        "notifications": [notification_payload(n) for n in changes.notifications],
    }


class SyncView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", str, description="The `cursor` of your last sync; leave it out for just a fresh cursor"
            )
        ],
        responses={200: SyncSerializer},
        tags=["sync"],
    )
    def get(self, request: AuthedRequest) -> Response:
        now = current_horizon()  # before anything is read: what commits meanwhile comes (again) next time
        raw = request.query_params.get("since")
        if not raw:
            return Response(_body(encode_cursor(request.user.pk, now.oldest), None, more=False))
        cursor = decode_cursor(raw, request.user.pk)
        since, then = cursor.get("s"), cursor.get("t") or now.oldest
        if not isinstance(since, int) or not isinstance(then, int):
            raise _foreign()
        if not isinstance(cursor.get("c"), int) or not isinstance(cursor.get("n"), int):
            raise _foreign()
        if since > now.next:  # a point ahead of the database: it was restored from a backup since
            raise ValidationFailed(
                "This sync cursor predates a restore: sync again without `since`.",
                code=MessagingErrorCode.CURSOR_EXPIRED,
            )
        changes = changes_for(request.user, since=since, after_conversation=cursor["c"], after_notification=cursor["n"])
        if changes.more_conversations or changes.more_notifications:
            after = (
                changes.conversations_after if changes.more_conversations else DONE,
                changes.notifications[-1].id if changes.more_notifications else DONE,
            )
            next_cursor = encode_cursor(request.user.pk, since, then=then, after=after)
            return Response(_body(next_cursor, changes, more=True))
        return Response(_body(encode_cursor(request.user.pk, then), changes, more=False))
