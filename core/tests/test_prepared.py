"""core.db's prepared statements keep one generic plan, and only the connections that prepare are
told to: PostgreSQL's default (`auto`) stays for every other connection."""

import pytest
from django.db import connection

from messaging import selectors
from messaging.tests.factories import make_conversation, send

PAGE = "FROM messaging_message m LEFT JOIN accounts_user u"


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_prepared_statements_are_planned_once_and_other_connections_keep_auto(manager, consultant):
    conversation = make_conversation(manager, consultant)
    send(manager, conversation, "hello")
    connection.close()
    connection.close_pool()  # a new session: nothing prepared on it yet
    assert setting("plan_cache_mode") == "auto"
    for _ in range(8):
        messages, _ = selectors.messages_page(conversation, limit=20)
        assert [m.content for m in messages] == ["hello"]
    assert setting("plan_cache_mode") == "force_generic_plan"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s", [f"%{PAGE}%"]
        )
        assert cursor.fetchall() == [(8, 0)]  # planned once, never again for its parameters
