"""Search's bitmap steps are planned with plain index scans off, and nothing else is: the setting
travels with the step's query (SET LOCAL), in autocommit and inside a caller's transaction alike.
No database function runs SQL text it is handed (messaging_search_matches is gone)."""

import pytest
from django.db import connection, transaction

from messaging.search import _WITH_BITMAPS

STEP = _WITH_BITMAPS.format(query="SELECT current_setting('enable_indexscan'), %s::text")


def run_step() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(STEP, ["visa'); DROP TABLE messaging_message; --"])  # a value is a value
        cursor.nextset()
        return cursor.fetchone()


def index_scans() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_indexscan")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_index_scans_are_off_for_the_step_only_in_autocommit():
    assert run_step() == ("off", "visa'); DROP TABLE messaging_message; --")
    assert index_scans() == "on"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'messaging_search_matches'")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_index_scans_are_off_for_the_step_only_inside_a_transaction():
    with transaction.atomic():
        assert run_step()[0] == "off"
        assert index_scans() == "on"  # not until the transaction ends: at once
    assert index_scans() == "on"
