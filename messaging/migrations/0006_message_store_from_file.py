"""`messaging_message_store` from its own file, messaging/sql/message_store_0006.sql (the send's SQL,
readable and tested there); the INSERT now names every column of the message. Reversible: the
reverse puts back migration 0003's text.

The file is this migration's, frozen: a later change of the function is a new file
(message_store_<its migration's number>.sql) and a new migration (docs/messaging.md, "The send's
SQL"); messaging/tests/test_message_store.py fails when a frozen file is edited."""

from importlib import import_module
from pathlib import Path

from django.db import migrations

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "message_store_0006.sql"
PREVIOUS = import_module("messaging.migrations.0003_message_store_function")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0005_participant_cleared_seq")]

    operations = [migrations.RunSQL(SQL_FILE.read_text(), [PREVIOUS.DROP, PREVIOUS.CREATE])]
