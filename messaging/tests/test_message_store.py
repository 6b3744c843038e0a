"""The send's database function (messaging/sql/message_store_<migration>.sql, the newest) and the
Message model agree: it writes every column of a message, the database runs the newest file's text,
and the instance a send returns is the row as stored. A send never calls save(), so nothing may
listen for it.

The files are versioned: each is the function as one migration installs it (the number in its
name), and frozen once written, so an old migration does today what it did then. A change is a new
file and a new migration (docs/messaging.md, "The send's SQL")."""

import hashlib
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save, pre_save

from messaging.models import Message
from messaging.services.messages import STORED_FIELDS
from messaging.tests.factories import make_conversation, send

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# Each file as its migration installs it: a file is never edited after its migration is written.
FROZEN = {
    "message_store_0006.sql": "886e341d6f3e92f23ca0de911ee8a8f1a8e64e65f0ae0e93cc8699f5ab3bd763",
}


def versions() -> list[Path]:
    """The function's files, oldest first (by the number of the migration that installs each)."""
    return sorted(SQL_DIR.glob("message_store_*.sql"))


SQL_FILE = versions()[-1]  # the function as the newest migration installs it


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
    # A field added to Message fails here until a new message_store file writes it (and a migration runs it).
    assert written_columns(SQL_FILE.read_text()) == message_columns()
    assert [Message._meta.get_field(name).column for name in STORED_FIELDS] == message_columns()


@pytest.mark.django_db
def test_the_database_runs_the_newest_file():
    assert installed_body() == file_body(), f"the installed messaging_message_store is not {SQL_FILE.name}"


def test_every_file_is_frozen_and_installed_by_its_own_migration():
    files = [path.name for path in versions()]
    assert files == sorted(FROZEN), "a new message_store file: add its checksum to FROZEN, and write its migration"
    for path in versions():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == FROZEN[path.name], f"{path.name} was edited: write the change as a new file and migration"
        number = re.fullmatch(r"message_store_(\d{4})\.sql", path.name)
        assert number is not None, path.name
        [migration] = MIGRATIONS.glob(f"{number.group(1)}_*.py")
        assert f'"{path.name}"' in migration.read_text(), f"{migration.name} does not install {path.name}"


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


@pytest.mark.slow  # unapplies every later migration of every app and applies them again: `make test`
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
