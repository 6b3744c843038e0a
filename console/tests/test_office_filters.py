"""The console's filters and forms name only the offices the user may see (issue 20, item 9c): the API
hides other offices (`offices.selectors.office_list_for`), and so do the admin's list filters and its
office choices. Every staff role, every list page with an office filter."""

import pytest
from django.contrib import admin
from django.test import Client

from accounts.models import User
from accounts.scoped_admin import ScopedAdmin
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db

LISTS_WITH_AN_OFFICE_FILTER = [
    "/admin/accounts/user/",
    "/admin/leads/lead/",
    "/admin/appointments/appointment/",
    "/admin/documents/document/",
    "/admin/notifications/announcement/",
]
STAFF = ["manager", "consultant", "receptionist"]


@pytest.fixture
def hidden(other_office):
    """An office nobody of `office` may see, with a name that shows wherever it is listed."""
    other_office.name = "Toronto Hidden Office"
    other_office.save()
    return other_office


@pytest.mark.parametrize("path", LISTS_WITH_AN_OFFICE_FILTER)
@pytest.mark.parametrize("role", STAFF)
def test_list_filters_name_only_the_users_own_office(role, path, actors, office, hidden):
    client = Client()
    client.force_login(actors[role])
    page = client.get(path)
    if page.status_code != 200:  # a page this role does not have
        assert page.status_code in (302, 403)
        return
    text = page.content.decode()
    assert hidden.name not in text and f"office__id__exact={hidden.id}" not in text
    if f"office__id__exact={office.id}" not in text:  # (a page may show no filter at all)
        return
    assert office.name in text


@pytest.mark.parametrize("path", LISTS_WITH_AN_OFFICE_FILTER)
def test_a_super_admin_filters_by_every_office(path, super_admin, office, hidden):
    client = Client()
    client.force_login(super_admin)
    text = client.get(path).content.decode()
    assert f"office__id__exact={hidden.id}" in text and f"office__id__exact={office.id}" in text


def test_a_managers_user_form_offers_their_own_office_only(client, manager, office, hidden):
    client.force_login(manager)
    form = client.get("/admin/accounts/user/add/").content.decode()
    assert hidden.name not in form and f'value="{hidden.id}"' not in form
    assert office.name in form


def test_every_related_list_filter_of_the_console_is_scoped(rf, super_admin):
    """A tripwire: a list filter on a relation lists the related rows, so it must come from a selector
    (`ScopedAdmin` scopes the office filters); a new one that is not fails here."""
    OfficeFactory()
    request = rf.get("/admin/")
    request.user = User.objects.get(pk=super_admin.pk)
    unscoped = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ScopedAdmin):
            continue
        for entry in model_admin.get_list_filter(request):
            name, kind = (entry, None) if isinstance(entry, str) else entry
            field = model._meta.get_field(name.split("__")[0])
            scoped = kind is admin.EmptyFieldListFilter or getattr(kind, "scoped", False)
            if field.is_relation and not scoped:
                unscoped.append(f"{model.__name__}.{name}")
    assert unscoped == []
