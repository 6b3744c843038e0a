"""The console's routing rules (issue 22): managers keep their office's rules and try one against a sample lead
before saving it ("Try this rule", `leads.routing.routing_test`): nothing saved, nobody assigned, another
office's rule a 404, bad input a form error, never a 500."""

import pytest

from accounts.tests.factories import ConsultantFactory
from leads.models import Lead, LeadRoutingRule

pytestmark = pytest.mark.django_db

ADD = "/admin/leads/leadroutingrule/add/"


def change_url(rule) -> str:
    return f"/admin/leads/leadroutingrule/{rule.pk}/change/"


def rule_form(office, *, on_change: bool = False, **overrides) -> dict:
    form = {
        "office": None if on_change else office.pk,
        "order": "1",
        "name": "Walk-ins for the UK",
        "sources": ["walk_in"],
        "countries": "gb, ca",
        "levels": ["master"],
        "consultant": "",
        "round_robin": [],
        "is_active": "on",
        "sample_source": "walk_in",
        "sample_countries": "GB",
        "sample_levels": ["master"],
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


@pytest.fixture
def alice(office):
    return ConsultantFactory(office=office, first_name="Alice", last_name="Ng")


@pytest.fixture
def bob(office):
    return ConsultantFactory(office=office, first_name="Bob", last_name="Ray")


def test_trying_an_unsaved_rule_names_its_consultant_and_saves_nothing(client, manager, office, alice, bob):
    client.force_login(manager)
    response = client.post(ADD, {**rule_form(office, consultant=str(bob.pk)), "_try": "Try this rule"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="routing-try-result"' in page
    assert "<strong>Bob Ray</strong> would get this lead by this rule (0 open leads now)" in page
    assert 'value="Walk-ins for the UK"' in page  # what was typed stays on the page
    assert not LeadRoutingRule.objects.exists()
    assert not Lead.objects.exists()


def test_a_round_robin_is_tried_and_a_sample_it_does_not_take_says_so(client, manager, office, alice, bob):
    client.force_login(manager)
    form = rule_form(office, round_robin=[str(alice.pk), str(bob.pk)])
    page = client.post(ADD, {**form, "_try": "1"}).content.decode()
    assert "<strong>Alice Ng</strong> would get this lead by this rule" in page
    page = client.post(ADD, {**form, "sample_countries": "AU", "_try": "1"}).content.decode()
    assert "This rule does not take this lead" in page
    assert not LeadRoutingRule.objects.exists()


def test_a_full_consultant_is_skipped_in_the_try(client, manager, office, alice, bob):
    alice.max_open_leads = 0
    alice.save(update_fields=["max_open_leads"])
    client.force_login(manager)
    page = client.post(ADD, {**rule_form(office, consultant=str(alice.pk)), "_try": "1"}).content.decode()
    assert "nobody in it has room" in page and "<strong>Bob Ray</strong>" in page


def test_trying_a_saved_rule_uses_the_form_not_the_database(client, manager, office, alice, bob):
    rule = LeadRoutingRule.objects.create(office=office, order=1, name="Old", sources=["website"], consultant=alice)
    client.force_login(manager)
    form = rule_form(office, consultant=str(bob.pk), on_change=True)
    page = client.post(change_url(rule), {**form, "_try": "1"}).content.decode()
    assert "<strong>Bob Ray</strong> would get this lead by this rule" in page
    rule.refresh_from_db()
    assert (rule.name, rule.sources, rule.consultant_id) == ("Old", ["website"], alice.pk)


def test_saving_goes_through_the_service(client, manager, office, alice, bob):
    client.force_login(manager)
    response = client.post(ADD, rule_form(office, round_robin=[str(alice.pk), str(bob.pk)], sample_source=""))
    assert response.status_code == 302
    rule = LeadRoutingRule.objects.get()
    assert rule.countries == ["GB", "CA"] and rule.sources == ["walk_in"] and rule.levels == ["master"]
    assert sorted(rule.round_robin.values_list("pk", flat=True)) == sorted([alice.pk, bob.pk])
    page = client.get(change_url(rule)).content.decode()
    assert 'value="GB, CA"' in page and 'id="routing-try"' in page


def test_another_offices_rule_is_a_404_to_a_manager(client, manager, other_office):
    theirs_consultant = ConsultantFactory(office=other_office)
    theirs = LeadRoutingRule.objects.create(office=other_office, order=1, consultant=theirs_consultant)
    client.force_login(manager)
    assert client.get(change_url(theirs)).status_code == 404
    form = rule_form(other_office, consultant=str(theirs_consultant.pk), on_change=True)
    assert client.post(change_url(theirs), {**form, "_try": "1"}).status_code == 404
    assert client.post(change_url(theirs), form).status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == ""


def test_another_office_or_its_consultant_is_a_form_error_in_a_try(client, manager, office, other_office, alice):
    theirs = ConsultantFactory(office=other_office)
    client.force_login(manager)
    response = client.post(ADD, {**rule_form(other_office, consultant=str(alice.pk)), "_try": "1"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(ADD, {**rule_form(office, consultant=str(theirs.pk)), "_try": "1"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert 'id="routing-try-result"' not in response.content.decode()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"consultant": "", "round_robin": []}, "one consultant (consultant_id) or a round robin"),
        ({"round_robin": ["ALICE"]}, "is not a valid value"),
        ({"countries": "GB, ZZ"}, "ISO 3166"),
        ({"countries": "x" * 401}, "at most 400 characters"),
        ({"countries": ", ".join(["GB"] * 60 + [f"{a}{b}" for a in "ABCDEFG" for b in "ABCDEFG"])}, "at most"),
        ({"sample_countries": "\x00"}, "Null characters are not allowed"),
        ({"sample_source": ""}, "Choose the sample lead"),
        ({"sample_source": "fax"}, "Select a valid choice"),
        ({"sample_levels": ["wizard"]}, "Select a valid choice"),
        ({"order": "99999999999999999999"}, "less than or equal to 10000"),
        ({"sources": ["walk_in", "<script>"]}, "Select a valid choice"),
    ],
)
def test_bad_input_in_a_try_is_a_form_error_never_a_500(client, manager, office, alice, overrides, message):
    client.force_login(manager)
    form = {**rule_form(office, consultant=str(alice.pk)), **overrides}
    response = client.post(ADD, {**form, "_try": "1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page, page[page.find("errorlist") - 200 : page.find("errorlist") + 400]
    assert 'id="routing-try-result"' not in page
    assert not LeadRoutingRule.objects.exists()


@pytest.mark.parametrize("role", ["consultant", "receptionist"])
def test_staff_who_do_not_manage_cannot_try_or_see_rules(client, actors, office, alice, role):
    client.force_login(actors[role])
    assert client.post(ADD, {**rule_form(office, consultant=str(alice.pk)), "_try": "1"}).status_code == 403


def test_a_super_admin_tries_a_rule_in_any_office(client, super_admin, other_office):
    theirs = ConsultantFactory(office=other_office, first_name="Chen", last_name="Li")
    client.force_login(super_admin)
    page = client.post(ADD, {**rule_form(other_office, consultant=str(theirs.pk)), "_try": "1"}).content.decode()
    assert "<strong>Chen Li</strong> would get this lead by this rule" in page
