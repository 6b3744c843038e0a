from django.utils import timezone

from messaging import services
from messaging.models import Conversation, ConversationType, Participant, ParticipantRole


def make_conversation(*users, title: str = "", office=None) -> Conversation:
    """A group conversation of these users (the first is its admin), bypassing contact rules."""
    conversation = Conversation.objects.create(
        type=ConversationType.GROUP, title=title, office=office or users[0].office,
        created_by=users[0], last_activity_at=timezone.now(),
    )
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user=u, role=ParticipantRole.ADMIN if i == 0 else ParticipantRole.MEMBER)
         for i, u in enumerate(users)]
    )
    return conversation


def send(sender, conversation, content="hello", **kwargs):
    message, _ = services.message_send(sender=sender, conversation=conversation, content=content, **kwargs)
    return message
