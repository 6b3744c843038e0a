"""`messaging_message_store_batch` from its own file, messaging/sql/store_batch_0011.sql: several
sends in one call (the socket's group commit, messaging.services.loop_sends). Reversible."""

from pathlib import Path

from django.db import migrations

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "store_batch_0011.sql"
DROP = (
    "DROP FUNCTION IF EXISTS messaging_message_store_batch("
    "bigint[], bigint[], text[], text[], bigint[], text[], timestamptz[])"
)


class Migration(migrations.Migration):
    dependencies = [("messaging", "0010_message_edited_or_deleted_index")]

    operations = [migrations.RunSQL(SQL_FILE.read_text(), DROP)]
