"""Error codes of messaging: conversations, messages, search, the socket's frames and sync."""

from core.errors import ErrorCode


class MessagingErrorCode(ErrorCode):
    """Conversations, messages and search, over REST and the socket alike."""

    MESSAGE_TOO_LONG = "message_too_long", "Over MESSAGE_MAX_LENGTH characters"
    INVALID_CONTENT = "invalid_content", "The content holds characters a message cannot carry (NUL)"
    PROFANITY = "profanity", "Refused by the profanity filter"
    CLIENT_ID_REUSED = "client_id_reused", "This client_id was already used in another conversation"
    EMPTY_MESSAGE = "empty_message", "A message needs content or files"
    INVALID_REPLY_TO = "invalid_reply_to", "reply_to_id is not a message of this conversation"
    INVALID_ATTACHMENTS = "invalid_attachments", "Some files are unknown or already sent"
    NOT_SENDER = "not_sender", "Only the sender can edit or delete this message"
    MESSAGE_DELETED = "message_deleted", "A deleted message cannot be edited"
    EDIT_WINDOW_PASSED = "edit_window_passed", "MESSAGE_EDIT_TIME_LIMIT has passed since the message was sent"
    NO_FILES = "no_files", "Attach 1 to 10 files as the multipart field `files`"
    INVALID_PARTICIPANTS = "invalid_participants", "participant_ids / user_ids are not user ids, or do not fit the type"
    PARTICIPANT_NOT_FOUND = "participant_not_found", "Some of these people cannot be found (`details.user_ids`)"
    TOO_MANY_PARTICIPANTS = "too_many_participants", "Over MAX_CONVERSATION_PARTICIPANTS people"
    INVALID_TYPE = "invalid_type", "A conversation is direct or group"
    NOT_A_GROUP = "not_a_group", "Only group conversations take this (direct ones: archive instead)"
    NOT_GROUP_ADMIN = "not_group_admin", "Only the group's admins can do this"
    SEARCH_DISABLED = "search_disabled", "Message search is turned off on this server (MESSAGE_SEARCH_ENABLED)"
    INVALID_IDS = "invalid_ids", "ids must be comma-separated user ids"
    TOO_MANY_IDS = "too_many_ids", "Ask for at most 200 users at once"
    CURSOR_EXPIRED = (
        "cursor_expired",
        "The sync cursor is too old (or from before a restore): start again without `since`",
    )

    INVALID_SNOOZE = "invalid_snooze", "Snoozed without a time to come back, or a time already past"
    STAFF_ONLY = "staff_only", "Triage and canned replies are the staff's"
    SHORTCUT_TAKEN = "shortcut_taken", "The office already has a canned reply with this shortcut"


class SocketErrorCode(ErrorCode):
    """The socket's frames (`/ws/`): sent in `error` frames, never as HTTP statuses."""

    BAD_JSON = "bad_json", "The frame is not JSON text"
    BAD_FRAME = "bad_frame", "The frame (or its data) is not a JSON object"
    UNKNOWN_EVENT = "unknown_event", "No such client event (`details.event`)"
    MISSING_FIELDS = "missing_fields", "Required fields are missing (`details.fields`)"
    INVALID_FIELD = "invalid_field", "A field has a bad value (`details.field`, the first bad one)"
    FRAME_TOO_LARGE = "frame_too_large", "Over SOCKET_MAX_FRAME_BYTES bytes of UTF-8"
    SHORTCUT_TAKEN = "shortcut_taken", "409: the office already has a canned reply with this shortcut"
