"""The living-cost table in the console (issue 22): staff read it, managers and super admins list, add and change
rows; bad input is a form error on the page, never a 500 (the database's checks are asked first)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from proposals.models import LivingCost

pytestmark = pytest.mark.django_db

LIST = "/admin/proposals/livingcost/"
ADD = "/admin/proposals/livingcost/add/"


def row(**overrides) -> dict:
    return {"country": "GB", "amount": "12000.00", "currency": "GBP", "notes": "London costs more", **overrides}


def test_a_manager_adds_and_changes_a_row(client, manager):
    client.force_login(manager)
    response = client.post(ADD, row(currency=" gbp "))
    assert response.status_code == 302, response.content.decode()[:2000]
    cost = LivingCost.objects.get()
    assert (str(cost.country), cost.amount, cost.currency) == ("GB", Decimal("12000.00"), "GBP")
    response = client.post(f"{LIST}{cost.pk}/change/", row(amount="13500"))
    assert response.status_code == 302
    cost.refresh_from_db()
    assert cost.amount == Decimal("13500")


def test_the_list_names_the_country_and_finds_it_by_name(client, manager):
    LivingCost.objects.create(country="GB", amount=Decimal("12000"), currency="GBP")
    LivingCost.objects.create(country="AU", amount=Decimal("21000"), currency="AUD")
    client.force_login(manager)
    page = client.get(LIST).content.decode()
    assert "United Kingdom" in page and "Australia" in page and "21000" in page
    page = client.get(LIST, {"q": "austral"}).content.decode()
    assert "Australia" in page and "United Kingdom" not in page


def test_the_list_reads_a_fixed_number_of_queries(client, manager):
    client.force_login(manager)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    LivingCost.objects.create(country="GB", amount=Decimal("12000"), currency="GBP")
    few = count()
    for code in ["AU", "CA", "US", "NZ", "IE", "DE", "FR", "NL", "JP"]:
        LivingCost.objects.create(country=code, amount=Decimal("15000"), currency="EUR")
    assert count() == few


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"currency": "XXX"}, "ISO 4217"),
        ({"currency": "GBPX"}, "at most 3 characters"),
        ({"currency": "ÅBC"}, "ISO 4217"),
        ({"currency": ""}, "This field is required"),
        ({"amount": "-1"}, "greater than or equal to 0"),
        ({"amount": "NaN"}, "Enter a number"),
        ({"amount": "Infinity"}, "Enter a number"),
        ({"amount": "1e999"}, "no more than 12 digits"),
        ({"amount": "12.345"}, "no more than 2 decimal places"),
        ({"country": "ZZ"}, "Select a valid choice"),
        ({"notes": "x" * 201}, "at most 200 characters"),
        ({"notes": "a\x00b"}, "Null characters are not allowed"),
    ],
)
def test_bad_input_is_a_form_error_never_a_500(client, manager, overrides, message):
    client.force_login(manager)
    response = client.post(ADD, row(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LivingCost.objects.exists()


def test_one_row_per_country(client, manager):
    LivingCost.objects.create(country="GB", amount=Decimal("12000"), currency="GBP")
    client.force_login(manager)
    response = client.post(ADD, row())
    assert response.status_code == 200 and "already exists" in response.content.decode()


@pytest.mark.parametrize("role", ["consultant", "receptionist"])
def test_other_staff_read_the_table_but_do_not_change_it(client, actors, role):
    cost = LivingCost.objects.create(country="GB", amount=Decimal("12000"), currency="GBP")
    client.force_login(actors[role])
    assert client.get(LIST).status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(f"{LIST}{cost.pk}/change/", row(amount="1")).status_code == 403
    cost.refresh_from_db()
    assert cost.amount == Decimal("12000")


def test_a_super_admin_keeps_it_too(client, super_admin):
    client.force_login(super_admin)
    assert client.post(ADD, row(country="CA", currency="CAD")).status_code == 302
