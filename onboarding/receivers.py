"""What joining sets off beyond `accounts`, whichever door the person came through (API, social sign-in,
console, users API, `seed`): `accounts.services` sends the signals, inside its transaction."""

from django.conf import settings
from django.dispatch import receiver

from accounts.models import Role, User
from accounts.signals import student_signed_up, user_joined_office
from leads.services import lead_create_for_signup
from messaging.services import conversation_ensure_direct


@receiver(student_signed_up, dispatch_uid="onboarding.website_lead")
def website_lead(sender, *, user: User, **kwargs) -> None:
    """A student who signs up is a website lead in the unassigned queue (or the leads already known by
    their email are linked to the account)."""
    lead_create_for_signup(student=user)


@receiver(user_joined_office, dispatch_uid="onboarding.conversations_with_managers")
def conversations_with_managers(sender, *, user: User, **kwargs) -> None:
    """With AUTO_CREATE_CONVERSATIONS, a consultant or receptionist joining an office gets a conversation
    with each of its managers."""
    if not settings.AUTO_CREATE_CONVERSATIONS or user.role not in (Role.CONSULTANT, Role.RECEPTIONIST):
        return
    for manager in User.objects.filter(role=Role.MANAGER, office=user.office_id, is_active=True):
        conversation_ensure_direct(user_a=manager, user_b=user, office=user.office)
