"""Conversations opened automatically by lead events (AUTO_CREATE_CONVERSATIONS); staff joining an office:
onboarding/tests."""

import pytest

from accounts.tests.factories import ConsultantFactory, StudentFactory
from leads.models import Lead
from leads.services import lead_assign
from leads.tests.factories import LeadFactory
from messaging.models import Conversation

pytestmark = pytest.mark.django_db


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


def test_a_manager_escalates_a_website_signup_from_the_queue(api_client, client_for, manager):
    api_client.post(
        "/api/v1/auth/signup",
        {"email": "web@example.com", "password": "Str0ng-pass-phrase", "first_name": "Web", "last_name": "Signup"},
    )

    lead = Lead.objects.get(email="web@example.com")
    assert lead.office_id is None
    response = client_for(manager).post(f"/api/v1/leads/{lead.id}/escalate")
    assert response.status_code == 200
    conversation = Conversation.objects.get(pk=response.json()["conversation_id"])
    assert set(conversation.participants.values_list("user_id", flat=True)) == {manager.id, lead.student_id}


def test_a_super_admin_escalation_of_a_queue_lead_needs_an_office(api_client, client_for, super_admin):
    api_client.post(
        "/api/v1/auth/signup",
        {"email": "web@example.com", "password": "Str0ng-pass-phrase", "first_name": "Web", "last_name": "Signup"},
    )

    lead = Lead.objects.get(email="web@example.com")
    response = client_for(super_admin).post(f"/api/v1/leads/{lead.id}/escalate")
    assert response.status_code == 400 and response.json()["error"]["code"] == "no_manager"
    assert not Conversation.objects.filter(lead=lead).exists()


@pytest.mark.parametrize("auto", [True, False])
def test_a_lead_converted_after_assignment_gets_its_conversation(settings, client_for, manager, office, auto):
    settings.AUTO_CREATE_CONVERSATIONS = auto
    consultant = ConsultantFactory(office=office)
    lead = LeadFactory(office=office, email="walk.in@example.com")  # no account yet
    lead_assign(actor=manager, lead=lead, consultant=consultant)
    assert client_for(consultant).post(f"/api/v1/leads/{lead.id}/convert").status_code == 200
    lead.refresh_from_db()
    conversations = Conversation.objects.filter(lead=lead)
    if not auto:
        assert not conversations.exists()
        return
    assert set(conversations.get().participants.values_list("user_id", flat=True)) == {lead.student_id, consultant.id}
    listed = client_for(lead.student).get("/api/v1/conversations").json()["results"]
    assert [c["lead_id"] for c in listed] == [lead.id]
