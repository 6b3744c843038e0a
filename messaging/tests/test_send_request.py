"""One send request (`messaging.services.messages.SendRequest`), built by the shared checks and run by
both sends: the same input is refused alike, and stored alike, whichever send takes it."""

import pytest
from asgiref.sync import async_to_sync

from core.db import BIGINT_MAX
from core.errors import NotFound, ValidationFailed
from messaging import events
from messaging.models import Conversation, Message
from messaging.services import amessage_send, message_send
from messaging.services.messages import send_request

pytestmark = pytest.mark.django_db(transaction=True)

BAD = [
    ({"content": "   "}, ValidationFailed, "empty_message"),
    ({"content": "x" * 100_000}, ValidationFailed, "message_too_long"),
    ({"content": "a\x00b"}, ValidationFailed, "invalid_content"),
    ({"reply_to_id": BIGINT_MAX + 1}, ValidationFailed, "invalid_reply_to"),
    ({"conversation": Conversation(pk=BIGINT_MAX + 1)}, NotFound, "not_found"),
    ({"reply_to_id": 10**9}, ValidationFailed, "invalid_reply_to"),  # fits, but not of this conversation
]


@pytest.mark.parametrize(("change", "error", "code"), BAD)
def test_both_sends_refuse_the_same_input_alike(people, chat, change, error, code):
    fields = {"sender": people[0], "conversation": chat, "content": "hello", **change}
    for send in (message_send, async_to_sync(amessage_send)):
        with pytest.raises(error) as refused:
            send(**fields)
        assert refused.value.code == code
    assert not Message.objects.exists()


def test_the_request_holds_the_content_as_stored(people, chat, settings):
    settings.PROFANITY_MODE, settings.PROFANITY_WORDS = "mask", ["darn"]
    request = send_request({"sender": people[0], "conversation": chat, "content": "  darn it  ", "client_id": "c1"})
    assert (request.content, request.conversation_id, request.type, request.client_id) == (
        "**** it",
        chat.pk,
        "text",
        "c1",
    )
    message, created = message_send(sender=people[0], conversation=chat, content="  darn it  ", client_id="c1")
    again, created_again = async_to_sync(amessage_send)(
        sender=people[0], conversation=chat, content="darn it", client_id="c1"
    )
    assert (message.content, created, again["id"], created_again) == ("**** it", True, message.pk, False)


def test_the_socket_sends_payload_is_the_stored_rows_without_a_model_instance(people, chat):
    """`amessage_send` builds its event's and ack's payload from the database function's row
    (`events.sent_message_payload`): the same as `message_payload` of the message read back."""
    first = message_send(sender=people[1], conversation=chat, content="first")[0]
    payload, created = async_to_sync(amessage_send)(
        sender=people[0], conversation=chat, content="  é ✓ \U0001f600 ", reply_to_id=first.pk, client_id="s1"
    )
    stored = Message.objects.select_related("sender").get(pk=payload["id"])
    stored.loaded_attachments = []
    assert created and payload == events.message_payload(stored)
    assert (payload["seq"], payload["reply_to_id"], payload["content"]) == (2, first.pk, "é ✓ \U0001f600")
