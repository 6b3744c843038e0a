from django.utils import timezone

from messaging import services
from messaging.models import Conversation, ConversationType, Participant, ParticipantRole


def make_conversation(*users, title: str = "", office=None) -> Conversation:
    """A group conversation of these users (the first is its admin), bypassing contact rules."""
    conversation = Conversation.objects.create(
        type=ConversationType.GROUP,
        title=title,
        office=office or users[0].office,
        created_by=users[0],
        last_activity_at=timezone.now(),
    )
    roles = [ParticipantRole.ADMIN] + [ParticipantRole.MEMBER] * (len(users) - 1)
    Participant.objects.bulk_create(
        [Participant(conversation=conversation, user=user, role=role) for user, role in zip(users, roles, strict=True)]
    )
    return conversation


def send(sender, conversation, content="hello", **kwargs):
    message, _ = services.message_send(sender=sender, conversation=conversation, content=content, **kwargs)
    return message
