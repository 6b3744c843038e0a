"""The send's database function (messaging/sql/message_store.sql) and the Message model agree: it
writes every column of a message, the database runs this file's text, and the instance a send
returns is the row as stored. A send never calls save(), so nothing may listen for it."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save, pre_save

from messaging.models import Message
from messaging.services.messages import STORED_FIELDS
from messaging.tests.factories import make_conversation, send

SQL_FILE = Path(__file__).resolve().parents[1] / "sql" / "message_store.sql"


def written_columns(sql: str) -> list[str]:
    insert = re.search(r"INSERT INTO messaging_message \((.*?)\)", sql, re.DOTALL)
    assert insert is not None
    return [column.strip() for column in insert.group(1).split(",")]


def message_columns() -> list[str]:
    """Every column of a message a write can set (the generated search_vector is PostgreSQL's)."""
    return [field.column for field in Message._meta.concrete_fields if not field.generated]


def installed_body() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'messaging_message_store'")
        (body,) = cursor.fetchone()
    return body


def file_body() -> str:
    return SQL_FILE.read_text().split("$$", 2)[1]


def test_the_send_writes_every_column_of_a_message():
    # A field added to Message fails here until message_store.sql writes it (and a migration runs it).
    assert written_columns(SQL_FILE.read_text()) == message_columns()
    assert [Message._meta.get_field(name).column for name in STORED_FIELDS] == message_columns()


@pytest.mark.django_db
def test_the_database_runs_this_file():
    assert installed_body() == file_body()


@pytest.mark.django_db
def test_a_send_returns_the_row_as_stored(manager, consultant):
    conversation = make_conversation(manager, consultant)
    first = send(manager, conversation, "first")
    sent = send(consultant, conversation, "  a reply  ", reply_to_id=first.id, client_id="c-1")
    stored = Message.objects.get(pk=sent.pk)
    assert [getattr(sent, name) for name in STORED_FIELDS] == [getattr(stored, name) for name in STORED_FIELDS]
    assert (stored.content, stored.reply_to_id, stored.client_id, stored.seq) == ("a reply", first.id, "c-1", 2)
    assert sent._state.adding is False and sent._state.db == "default"
    sent.content = "edited"
    sent.save(update_fields=["content"])  # an UPDATE of the stored row, as for any instance the ORM read
    assert Message.objects.get(pk=sent.pk).content == "edited" and Message.objects.count() == 2


def test_nothing_listens_for_messages_being_saved():
    """Sends skip save(): a receiver of Message's save signals would silently miss every send."""
    assert not pre_save.has_listeners(Message) and not post_save.has_listeners(Message)


@pytest.mark.django_db(transaction=True)
def test_the_migrations_apply_backward_and_forward():
    call_command("migrate", "messaging", "0005", verbosity=0)
    assert installed_body() != file_body()  # 0003's function is back
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'messaging_search_matches'")
        assert cursor.fetchone() == (1,)
    call_command("migrate", "messaging", verbosity=0)
    assert installed_body() == file_body()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = 'messaging_search_matches'")
        assert cursor.fetchone() == (0,)
