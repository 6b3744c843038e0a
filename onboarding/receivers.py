"""What joining sets off beyond `accounts`, and converting beyond `leads`, whichever door the person came
through (API, social sign-in, console, users API, `seed`): `accounts.services` and `leads.services` send the
signals, inside their transactions."""

from django.conf import settings
from django.dispatch import receiver

from accounts.models import Role, User
from accounts.signals import student_signed_up, user_joined_office
from documents.services import documents_join_office
from leads.services import lead_create_for_signup
from leads.signals import lead_converted
from messaging.services import conversation_ensure_direct
from students.services import profile_take_lead_preferences


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


@receiver(lead_converted, dispatch_uid="onboarding.profile_from_lead")
def profile_from_lead(sender, *, lead, student: User, actor: User, **kwargs) -> None:
    """The preferences captured on the lead become the student's profile's (students sit above leads, so
    leads announces the conversion and this hands them over, inside the conversion's transaction)."""
    if lead.preferences:
        profile_take_lead_preferences(student=student, preferences=lead.preferences, actor=actor)


@receiver(lead_converted, dispatch_uid="onboarding.documents_join_office")
def documents_join_office_on_conversion(sender, *, lead, student: User, actor: User, **kwargs) -> None:
    """Documents the student uploaded before they had an office (website signups) join the office now."""
    student.refresh_from_db(fields=["office"])
    documents_join_office(student=student)
