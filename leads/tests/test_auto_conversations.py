"""Conversations opened automatically by lead and staff events (AUTO_CREATE_CONVERSATIONS)."""

import pytest

from accounts.services import user_update
from accounts.tests.factories import ConsultantFactory, StudentFactory
from leads.services import lead_assign
from leads.tests.factories import LeadFactory
from messaging.models import Conversation

pytestmark = pytest.mark.django_db


def test_moving_a_consultant_to_another_office_opens_the_conversation_with_its_manager(
        settings, super_admin, consultant, other_office, other_manager):
    settings.AUTO_CREATE_CONVERSATIONS = True
    user_update(actor=super_admin, user=consultant, office=other_office)
    assert Conversation.objects.filter(direct_key=Conversation.direct_key_for(other_manager.id, consultant.id)).exists()


def test_nothing_is_opened_when_the_setting_is_off(settings, manager, office):
    settings.AUTO_CREATE_CONVERSATIONS = False
    lead = LeadFactory(office=office, student=StudentFactory(office=office))
    lead_assign(actor=manager, lead=lead, consultant=ConsultantFactory(office=office))
    assert not Conversation.objects.filter(lead=lead).exists()


def test_assigning_again_reuses_the_conversation(settings, manager, office):
    settings.AUTO_CREATE_CONVERSATIONS = True
    lead = LeadFactory(office=office, student=StudentFactory(office=office))
    first, second = ConsultantFactory(office=office), ConsultantFactory(office=office)
    lead_assign(actor=manager, lead=lead, consultant=first)
    lead_assign(actor=manager, lead=lead, consultant=second)
    lead_assign(actor=manager, lead=lead, consultant=first)
    conversations = Conversation.objects.filter(lead=lead)
    assert conversations.count() == 1
    assert set(conversations.get().participants.values_list("user_id", flat=True)) == {lead.student_id, first.id}


def test_a_lead_without_an_account_gets_no_conversation(settings, manager, office):
    settings.AUTO_CREATE_CONVERSATIONS = True
    lead = LeadFactory(office=office)
    lead_assign(actor=manager, lead=lead, consultant=ConsultantFactory(office=office))
    assert not Conversation.objects.filter(lead=lead).exists()
