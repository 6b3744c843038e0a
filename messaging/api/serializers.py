"""Input validation for every door (REST views and the socket's frames use these same classes), and
the shapes of `messaging.events` payloads for OpenAPI (test_payload_contract keeps the two equal)."""

from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from core.pagination import MAX_LIMIT
from messaging.models import ConversationType, MessageType, TriageStatus

Payload = dict[str, Any]  # what these serializers validate or describe: JSON objects


class MessageTextField(serializers.CharField):
    """Message text as sent: kept as is (the service trims it and applies the content rules:
    MESSAGE_MAX_LENGTH, profanity), at most 1,000,000 characters to bound parsing. Lone
    surrogates (not storable as UTF-8) are found by encoding the text, not by DRF's validator,
    which loops over every character in Python (0.19 ms for 4,000 characters, against 0.3 µs)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", 1_000_000)
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitSurrogateCharactersValidator)]

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError as error:
                code_point = ord(value[error.start])
                raise serializers.ValidationError(
                    f"Surrogate characters are not allowed: U+{code_point:X}.", code="surrogate_characters_not_allowed"
                ) from None
        return value


class Prebuilt:
    """A serializer's validation with its fields built once (a new serializer deep-copies its fields,
    which cost more than validating: 0.2 ms for a send). Call it with the input; it returns the
    validated data or raises DRF's ValidationError, as `is_valid(raise_exception=True)` would.

    A flat serializer (no `validate`/`validate_<field>` hooks, no serializer validators, every field
    its own source) given a JSON object is validated field by field with each field's own
    `run_validation`, without the serializer's per-call machinery: 0.011 ms for a send instead of
    0.031 (the socket's hot path). Anything else goes through DRF's `run_validation`.
    test_prebuilt_validation_is_drfs keeps the two answering alike."""

    def __init__(self, serializer_class: type[serializers.Serializer[Any]]) -> None:
        self.serializer = serializer = serializer_class()
        self.fields = [(name, field) for name, field in serializer.fields.items() if not field.read_only]
        self.flat = (
            type(serializer).validate is serializers.Serializer.validate
            and not serializer.validators
            and not any(field.read_only for field in serializer.fields.values())
            and all(
                field.source == name
                and not isinstance(field, serializers.BaseSerializer)
                and not hasattr(serializer, f"validate_{name}")
                for name, field in self.fields
            )
        )

    def __call__(self, data: Any) -> Payload:
        if not self.flat or type(data) is not dict:
            checked: Payload = self.serializer.run_validation(data)
            return checked
        validated, errors = {}, {}
        for name, field in self.fields:
            try:
                validated[name] = field.run_validation(data.get(name, empty))
            except serializers.ValidationError as error:
                errors[name] = error.detail
            except SkipField:
                pass
        if errors:
            raise serializers.ValidationError(errors)
        return validated


class UserBriefSerializer(serializers.Serializer[Payload]):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    role = serializers.CharField()
    office_id = serializers.IntegerField(allow_null=True)


class AttachmentSerializer(serializers.Serializer[Payload]):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    mime_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    url = serializers.CharField()


class MessageSerializer(serializers.Serializer[Payload]):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    seq = serializers.IntegerField()
    sender_id = serializers.IntegerField(allow_null=True)
    sender = UserBriefSerializer(allow_null=True)
    type = serializers.ChoiceField(choices=MessageType.choices)
    content = serializers.CharField(allow_blank=True)
    reply_to_id = serializers.IntegerField(allow_null=True)
    attachments = AttachmentSerializer(many=True)
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()


class MessagePageSerializer(serializers.Serializer[Payload]):
    results = MessageSerializer(many=True)
    next = serializers.CharField(allow_null=True)


class SearchHitSerializer(MessageSerializer):
    rank = serializers.FloatField()
    highlight = serializers.CharField(help_text="HTML-escaped snippet with matches in <mark> tags")


class SearchPageSerializer(serializers.Serializer[Payload]):
    results = SearchHitSerializer(many=True)
    next = serializers.CharField(allow_null=True)


class ConversationSerializer(serializers.Serializer[Payload]):
    id = serializers.IntegerField()
    type = serializers.ChoiceField(choices=ConversationType.choices)
    title = serializers.CharField(allow_blank=True)
    office_id = serializers.IntegerField(allow_null=True)
    lead_id = serializers.IntegerField(allow_null=True)
    participants = UserBriefSerializer(many=True)
    last_message = MessageSerializer(allow_null=True)
    last_seq = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    is_archived = serializers.BooleanField()
    is_pinned = serializers.BooleanField()
    muted_until = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(
        choices=TriageStatus.choices,
        help_text="Where it stands in your inbox (staff): resolved and snoozed open again when someone else writes",
    )
    snoozed_until = serializers.DateTimeField(allow_null=True, help_text="Set while status is snoozed")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ConversationCreateSerializer(serializers.Serializer[Payload]):
    type = serializers.ChoiceField(choices=ConversationType.choices)
    participant_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ConversationUpdateSerializer(serializers.Serializer[Payload]):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_archived = serializers.BooleanField(required=False)
    is_pinned = serializers.BooleanField(required=False)
    muted_until = serializers.DateTimeField(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=TriageStatus.choices, required=False, help_text="Staff only (403 staff_only for students)"
    )
    snoozed_until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="With status snoozed: a time to come (400 invalid_snooze)"
    )


class ConversationListQuerySerializer(serializers.Serializer[Payload]):
    status = serializers.ChoiceField(choices=TriageStatus.choices, required=False)
    q = serializers.CharField(required=False, max_length=100, help_text="Title, or someone's name or email")


class CannedReplySerializer(serializers.Serializer[Payload]):
    id = serializers.IntegerField(read_only=True)
    office_id = serializers.IntegerField(read_only=True)
    shortcut = serializers.SlugField(max_length=40, help_text="Typed after / in a reply")
    content = serializers.CharField(max_length=4000)
    updated_at = serializers.DateTimeField(read_only=True)


class CannedReplyCreateSerializer(CannedReplySerializer):
    office_id = serializers.IntegerField(  # (writable here)
        required=False, help_text="Super admins name the office; everyone else writes for their own"
    )


class CannedReplyUpdateSerializer(serializers.Serializer[Payload]):
    shortcut = serializers.SlugField(max_length=40, required=False)
    content = serializers.CharField(max_length=4000, required=False)


class ParticipantsAddSerializer(serializers.Serializer[Payload]):
    user_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)


class ParticipantSerializer(UserBriefSerializer):
    conversation_role = serializers.CharField()
    joined_at = serializers.DateTimeField()
    last_read_seq = serializers.IntegerField()
    last_delivered_seq = serializers.IntegerField()


class ParticipantPageSerializer(serializers.Serializer[Payload]):
    """Every participant at once (at most MAX_CONVERSATION_PARTICIPANTS): `next` is always null."""

    results = ParticipantSerializer(many=True)
    next = serializers.CharField(allow_null=True)


class MarkReadSerializer(serializers.Serializer[Payload]):
    seq = serializers.IntegerField(min_value=0, required=False)


class ReadStateSerializer(serializers.Serializer[Payload]):
    conversation_id = serializers.IntegerField()
    seq = serializers.IntegerField()


class ReadAllSerializer(serializers.Serializer[Payload]):
    read = ReadStateSerializer(many=True, help_text="The conversations whose read pointer moved, and where to")


class ClearedSerializer(serializers.Serializer[Payload]):
    conversation_id = serializers.IntegerField()
    cleared_seq = serializers.IntegerField(help_text="Messages up to this seq are hidden from you; later ones show")


class UnreadTotalSerializer(serializers.Serializer[Payload]):
    unread_count = serializers.IntegerField(
        help_text="Unread messages over all your conversations (archived and muted included)"
    )
    unread_conversations = serializers.IntegerField(help_text="Conversations with at least one unread message")


SENDABLE_TYPES = [MessageType.TEXT, MessageType.IMAGE, MessageType.VIDEO, MessageType.FILE]


class MessageSendSerializer(serializers.Serializer[Payload]):
    """A send's input, over REST (`POST messages`) and the socket (`send_message`) alike."""

    conversation_id = serializers.IntegerField(min_value=1)
    content = MessageTextField(allow_blank=True, required=False, default="")
    type = serializers.ChoiceField(choices=SENDABLE_TYPES, required=False, default=MessageType.TEXT)
    reply_to_id = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    client_id = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)


class MessageEditSerializer(serializers.Serializer[Payload]):
    content = MessageTextField()


class MessagePageQuerySerializer(serializers.Serializer[Payload]):
    before = serializers.IntegerField(min_value=1, required=False)
    after = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False, default=50)

    def validate(self, attrs: Payload) -> Payload:
        if "before" in attrs and "after" in attrs:
            raise serializers.ValidationError("Use before or after, not both.")
        return attrs


class SearchQuerySerializer(serializers.Serializer[Payload]):
    q = serializers.CharField(max_length=200)
    conversation_id = serializers.IntegerField(min_value=1, required=False)
    type = serializers.ChoiceField(choices=MessageType.choices, required=False)
    sender_id = serializers.IntegerField(min_value=1, required=False)
    file_type = serializers.RegexField(r"^[a-z]+(/[a-z0-9.+-]+)?$", max_length=100, required=False)
    date_from = serializers.DateTimeField(required=False)
    date_to = serializers.DateTimeField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False, default=20)
    offset = serializers.IntegerField(min_value=0, max_value=10_000, required=False, default=0)


class ExportQuerySerializer(serializers.Serializer[Payload]):
    format = serializers.ChoiceField(choices=["csv", "json"], required=False, default="json")


class AuditSerializer(serializers.Serializer[Payload]):
    id = serializers.IntegerField()
    actor_id = serializers.IntegerField(allow_null=True)
    action = serializers.CharField()
    conversation_id = serializers.IntegerField(allow_null=True)
    office_id = serializers.IntegerField(allow_null=True)
    details = serializers.DictField()
    created_at = serializers.DateTimeField()


class UploadSerializer(serializers.Serializer[Payload]):
    conversation_id = serializers.IntegerField(min_value=1)
    content = MessageTextField(allow_blank=True, required=False, default="")
    client_id = serializers.CharField(max_length=64, required=False, allow_null=True, default=None)


def validated(serializer_class: type[serializers.BaseSerializer[Any]], data: Any) -> dict[str, Any]:
    """The request body checked by `serializer_class` (a 400 in the one error shape otherwise)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    checked: dict[str, Any] = serializer.validated_data
    return checked
