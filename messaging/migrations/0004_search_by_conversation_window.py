"""Search reads its candidates through bitmaps: the GIN index AND'ed with (conversation, id).

`messaging_search_matches(query)` runs one candidate query of `message_search` with plain index
scans off. The planner cannot see that an AND of two common words matches far fewer rows than
the product of their frequencies, and then prefers walking the primary key over an id range
(one row read per id) to a bitmap of the GIN index AND'ed with the caller's conversations in
that range (one row read per match in scope): 40 ms instead of 12 over 300,000 ids.
Settings given to a function hold only while it runs. The index is built concurrently: sends
go on writing messages meanwhile.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

CREATE = r"""
CREATE FUNCTION messaging_search_matches(query text) RETURNS TABLE (id bigint, rank real)
LANGUAGE plpgsql STABLE SET enable_indexscan = off AS $$
BEGIN
    RETURN QUERY EXECUTE query;
END
$$;
"""

DROP = "DROP FUNCTION messaging_search_matches(text);"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY runs outside a transaction
    dependencies = [("messaging", "0003_message_store_function")]

    operations = [
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(fields=["conversation", "id"], name="message_conversation_id"),
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
