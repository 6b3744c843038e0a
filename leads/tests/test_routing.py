"""Lead routing: rules in order, round robins skipping consultants at their cap or deactivated, the
office's fallback, never another office; 50 concurrent creations against the real database."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.tests.factories import ConsultantFactory, ReceptionistFactory
from leads.models import Activity, Lead, LeadRoutingRule
from leads.routing import RuleConditions, SampleLead, next_in_turn
from leads.services import lead_create


def test_next_in_turn_goes_round_and_skips_those_without_room():
    assert next_in_turn([1, 2, 3], after=None, with_room={1, 2, 3}) == 1
    assert next_in_turn([1, 2, 3], after=1, with_room={1, 2, 3}) == 2
    assert next_in_turn([1, 2, 3], after=3, with_room={1, 2, 3}) == 1
    assert next_in_turn([1, 2, 3], after=1, with_room={1, 3}) == 3
    assert next_in_turn([1, 2, 3], after=9, with_room={2}) == 2
    assert next_in_turn([1, 2], after=1, with_room=set()) is None
    assert next_in_turn([], after=None, with_room={1}) is None


def test_conditions_match_by_source_countries_and_levels():
    lead = SampleLead("walk_in", ("GB", "AU"), ("master",))
    assert RuleConditions().matches(lead)
    assert RuleConditions(sources=("walk_in",), countries=("AU",)).matches(lead)
    assert not RuleConditions(sources=("website",)).matches(lead)
    assert not RuleConditions(levels=("phd",)).matches(lead)
    assert not RuleConditions(countries=("CA",)).matches(SampleLead("walk_in"))


@pytest.mark.django_db
def test_a_rule_routes_and_the_timeline_names_it(office, other_office, manager):
    desk = ReceptionistFactory(office=office)
    alice = ConsultantFactory(office=office, first_name="Alice")
    ConsultantFactory(office=other_office)
    rule = LeadRoutingRule.objects.create(
        office=office, order=1, name="Walk-ins", sources=["walk_in"], consultant=alice
    )
    lead = lead_create(actor=desk, first_name="Sam", email="sam@example.com", source="walk_in")
    assert lead.assigned_to == alice
    entry = Activity.objects.get(lead=lead, kind="assigned")
    assert "Walk-ins" in entry.text and entry.data["routing"]["rule_id"] == rule.pk


@pytest.mark.django_db
def test_a_full_or_deactivated_consultant_is_skipped_and_routing_stays_in_the_office(office, other_office):
    desk = ReceptionistFactory(office=office)
    full = ConsultantFactory(office=office, max_open_leads=0)
    gone = ConsultantFactory(office=office, is_active=False)
    fallback = ConsultantFactory(office=office)
    elsewhere = ConsultantFactory(office=other_office)
    rule = LeadRoutingRule.objects.create(office=office, order=1)
    rule.round_robin.set([full, gone, elsewhere])
    lead = lead_create(actor=desk, first_name="Ana", phone="+447700900123", source="walk_in")
    assert lead.assigned_to == fallback
    assert "round robin" in Activity.objects.get(lead=lead, kind="assigned").text
    fallback.max_open_leads = 1
    fallback.save()
    waiting = lead_create(actor=desk, first_name="Ben", phone="+447700900124", source="walk_in")
    assert waiting.assigned_to is None
    assert Activity.objects.get(lead=waiting, kind="assigned").text.startswith("Not routed")


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_creations_never_break_a_cap_and_spread_evenly(office):
    desk = ReceptionistFactory(office=office)
    consultants = [ConsultantFactory(office=office, max_open_leads=12) for _ in range(4)]  # room for 48
    barrier, errors = threading.Barrier(10), []

    def create(batch: int):
        try:
            barrier.wait()
            for n in range(5):
                lead_create(actor=desk, first_name=f"L{batch}-{n}", email=f"l{batch}-{n}@example.com", source="walk_in")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(b,)) for b in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Lead.objects.count() == 50
    load = Counter(Lead.objects.exclude(assigned_to=None).values_list("assigned_to_id", flat=True))
    assert load == {c.pk: 12 for c in consultants}  # each at the cap, never over; two wait for a manager
    assert Lead.objects.filter(assigned_to=None).count() == 2


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_creations_spread_evenly_without_caps(office):
    desk = ReceptionistFactory(office=office)
    consultants = [ConsultantFactory(office=office) for _ in range(5)]
    barrier = threading.Barrier(10)

    def create(batch: int):
        try:
            barrier.wait()
            for n in range(5):
                lead_create(
                    actor=desk, first_name=f"L{batch}-{n}", phone=f"+4477009{batch:02d}{n:03d}", source="walk_in"
                )
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(b,)) for b in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load = Counter(Lead.objects.values_list("assigned_to_id", flat=True))
    assert load == {c.pk: 10 for c in consultants}


@pytest.mark.django_db
def test_rules_api_scope_and_the_test_endpoint(client_for, manager, other_manager, consultant, office):
    alice = ConsultantFactory(office=office)
    client = client_for(manager)
    created = client.post(
        "/api/v1/lead-routing-rules",
        {"order": 1, "name": "UK", "conditions": {"countries": ["GB"]}, "round_robin": [alice.pk, consultant.pk]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    rule = created.json()
    assert rule["round_robin"] == sorted([alice.pk, consultant.pk]) and rule["office_id"] == office.pk
    for user in (other_manager, consultant):
        assert client_for(user).get(f"/api/v1/lead-routing-rules/{rule['id']}").status_code == 404
        assert (
            client_for(user).patch(f"/api/v1/lead-routing-rules/{rule['id']}", {"order": 3}, format="json").status_code
            == 404
        )
    tested = client.post(
        "/api/v1/lead-routing-rules/test",
        {
            "lead": {"source": "walk_in", "countries": ["GB"]},
            "rule": {"conditions": {"sources": ["website"]}, "consultant_id": alice.pk},
        },
        format="json",
    )
    assert tested.status_code == 200, tested.json()
    assert tested.json()["matches"] is False and tested.json()["by_rule"] is False
    saved = client.post(
        "/api/v1/lead-routing-rules/test", {"lead": {"source": "walk_in", "countries": ["GB"]}}, format="json"
    )
    assert saved.json()["rule_id"] == rule["id"] and saved.json()["consultant_id"] in (alice.pk, consultant.pk)
    for body in (
        {"consultant_id": alice.pk, "round_robin": [alice.pk]},
        {"conditions": {"sources": ["fax"]}, "consultant_id": alice.pk},
        {"consultant_id": ConsultantFactory(office=other_manager.office).pk},
        {"round_robin": [2**40]},
        {},
    ):
        response = client.post("/api/v1/lead-routing-rules", body, format="json")
        assert response.status_code == 400, (body, response.json())
    assert client.post("/api/v1/lead-routing-rules/test", {"lead": {"source": "x"}}, format="json").status_code == 400
    assert (
        client_for(consultant)
        .post("/api/v1/lead-routing-rules/test", {"lead": {"source": "walk_in"}}, format="json")
        .status_code
        == 403
    )


@pytest.mark.django_db
def test_the_rules_list_runs_a_fixed_number_of_queries(client_for, manager, office, django_assert_num_queries):
    for n in range(3):
        rule = LeadRoutingRule.objects.create(office=office, order=n)
        rule.round_robin.set([ConsultantFactory(office=office)])
    client = client_for(manager)
    client.get("/api/v1/lead-routing-rules")
    with django_assert_num_queries(3):  # the user, the rules, their round robins
        assert len(client.get("/api/v1/lead-routing-rules").json()["results"]) == 3
