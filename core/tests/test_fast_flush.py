"""The tests' flush (root conftest `_fast_flush`): DELETE FROM each table, not one TRUNCATE, with the same
result; a transactional test starts from empty tables, but for what migrate wrote (content types,
permissions, the site), which post_migrate would only write again."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection

from accounts.models import User
from accounts.tests.factories import ConsultantFactory
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
