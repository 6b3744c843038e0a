"""The console's list pages take their filters, search, order and page from the query string: a hostile
value (a NUL byte, a year beyond any calendar, a number beyond bigint, a month 13) sends the page back
to its plain list (Django's `?e=1`), never a 500, on every list page (registered ones found, so a
new page is covered) for every staff role. The guard is the admin base's (accounts/scoped_admin.py)."""

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client
from django.urls import NoReverseMatch, reverse

from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def list_pages():
    for model, model_admin in admin.site._registry.items():
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        except NoReverseMatch:
            continue
        yield url, model, model_admin


def hostile_queries(model, model_admin) -> list[str]:
    """The issue's two, then every filter of the page with values no field takes."""
    queries = ["status__exact=%00", f"start__year={HUGE}", "q=%00", f"p={HUGE}", "p=-1", "o=999", "o=%00"]
    fields = []
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            fields.append(entry)
        elif isinstance(entry, tuple | list) and isinstance(entry[0], str):
            fields.append(entry[0])
    for name in fields:
        queries += [f"{name}__exact=%00", f"{name}__exact={HUGE}", f"{name}__id__exact=abc", f"{name}__isnull=%00"]
        try:
            field = model._meta.get_field(name)
        except Exception:
            continue
        if isinstance(field, models.DateField | models.DateTimeField):
            queries += [
                f"{name}__year={HUGE}",
                f"{name}__month=13&{name}__year=2026",
                f"{name}__day=0&{name}__month=1&{name}__year=2026",
                f"{name}__gte=0001-01-01%2000:00:00-23:59",
                f"{name}__lt=9999-12-31%2023:59:59-23:59",
            ]
    if model_admin.date_hierarchy:
        name = model_admin.date_hierarchy
        queries += [f"{name}__year={HUGE}", f"{name}__year=0", f"{name}__month=13&{name}__year=2026"]
    return queries


def test_the_walk_covers_the_pages_the_issue_named():
    urls = {url for url, _, _ in list_pages()}
    assert {"/admin/leads/lead/", "/admin/appointments/appointment/", "/admin/accounts/user/"} <= urls
    assert len(urls) >= 8


def test_the_guard_sends_a_hostile_filter_back_to_the_plain_list(actors, office):
    """The guard itself, on one page (the sweep below walks them all)."""
    LeadFactory(office=office)
    browser = Client(raise_request_exception=False)
    browser.force_login(actors["manager"])
    url = "/admin/leads/lead/"
    for query in ["status__exact=%00", f"created_at__year={HUGE}", "assigned_to__id__exact=abc", "o=%00", "q=%00"]:
        answer = browser.get(f"{url}?{query}")
        assert (answer.status_code, answer["Location"]) == (302, f"{url}?e=1"), query
    for query in [f"p={HUGE}", "p=-1"]:
        assert browser.get(f"{url}?{query}").status_code == 200, query


# ~200 page loads per role (2-3 s each): `make test` and CI, not `make test-fast` (which keeps the test above).
@pytest.mark.slow
@pytest.mark.parametrize("role", ["super_admin", "manager", "consultant", "receptionist"])
def test_no_list_page_answers_a_hostile_filter_with_a_500(actors, office, role):
    LeadFactory(office=office)  # pages with rows render them
    browser = Client(raise_request_exception=False)
    browser.force_login(actors[role])
    crashed, tried = [], 0
    for url, model, model_admin in list_pages():
        if browser.get(url).status_code != 200:
            continue  # a page this role does not use
        for query in hostile_queries(model, model_admin):
            answer = browser.get(f"{url}?{query}")
            tried += 1
            if answer.status_code >= 500:
                crashed.append(f"{url}?{query} -> {answer.status_code}")
            else:
                assert answer.status_code in (200, 302), (url, query, answer.status_code)
                if answer.status_code == 302:
                    assert answer["Location"] == f"{url}?e=1", (url, query, answer["Location"])
    assert crashed == []
    assert tried > 20
