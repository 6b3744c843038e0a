"""The tests' flush (root conftest `_fast_flush`): DELETE FROM each table, not one TRUNCATE, with the same
result; a transactional test starts from empty tables, but for what migrate wrote (content types, the
default checklists, permissions, the site); post_migrate would only write them again: not sent after a flush."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection
from django.db.models.signals import post_migrate

from accounts.models import User
from accounts.tests.factories import ConsultantFactory
from conftest import KEPT_BY_THE_FLUSH, WRITE_ONLY_WHAT_THE_FLUSH_KEEPS
from core.tests import template_database
from leads.models import Lead
from leads.tests.factories import LeadFactory
from offices.models import Office


def test_the_flush_deletes_from_each_table():
    assert connection.ops.sql_flush(no_style(), ["offices_office", "django_content_type", "leads_lead"]) == [
        'DELETE FROM "offices_office";',
        'DELETE FROM "leads_lead";',
    ]
    # what Django's own tests of the flush ask for keeps its TRUNCATE
    [restart] = connection.ops.sql_flush(no_style(), ["offices_office"], reset_sequences=True)
    assert restart.startswith("TRUNCATE") and "RESTART IDENTITY" in restart


@pytest.mark.django_db(transaction=True)
def test_rows_that_refer_to_each_other_are_flushed_in_one_go():
    consultant = ConsultantFactory()  # a user in an office, a lead of that office: foreign keys between them
    LeadFactory(office=consultant.office)
    assert Office.objects.exists() and User.objects.exists() and Lead.objects.exists()
    made_by_migrate = (ContentType.objects.count(), Permission.objects.count(), Site.objects.get().pk)
    # as TransactionTestCase flushes (the command's own default resets the sequences: TRUNCATE)
    call_command("flush", verbosity=0, interactive=False, reset_sequences=False)
    assert not (Office.objects.exists() or User.objects.exists() or Lead.objects.exists())
    assert (ContentType.objects.count(), Permission.objects.count(), Site.objects.get().pk) == made_by_migrate


def test_every_post_migrate_receiver_writes_only_what_the_flush_keeps():
    """A new post_migrate receiver (an app seeding rows after migrate) would need its rows after each
    flush: then drop the root conftest's `_no_post_migrate_after_a_flush` or keep its tables too."""
    receivers = set()
    for _, reference, *_ in post_migrate.receivers:  # (lookup key, a weak reference or the function, ...)
        receiver = reference if hasattr(reference, "__qualname__") else reference()
        receivers.add(f"{receiver.__module__}.{receiver.__qualname__}")
    assert receivers == WRITE_ONLY_WHAT_THE_FLUSH_KEEPS


def test_the_flush_keeps_every_table_migrate_writes_rows_to():
    """The template database (core/tests/template_database.py) is the test database as migrate left it:
    each table with rows there is one the tests must keep across flushes, or later tests run without them."""
    _, template = template_database.names()
    if not template_database.exists(template):
        pytest.skip("no template database (a --reuse-db run)")
    with template_database.connect(template) as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cursor.fetchall()]
        with_rows = set()
        for table in tables:
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
            if cursor.fetchone()[0]:
                with_rows.add(table)
    assert with_rows - {"django_migrations"} == KEPT_BY_THE_FLUSH
