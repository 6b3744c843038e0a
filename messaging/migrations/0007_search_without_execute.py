"""Drop `messaging_search_matches(query text)`, which executed whatever SQL text it was given (and
was declared STABLE). Search's bitmap steps now turn plain index scans off with `SET LOCAL` sent
with the step's query (messaging/search.py). The reverse puts the function back."""

from importlib import import_module

from django.db import migrations

PREVIOUS = import_module("messaging.migrations.0004_search_by_conversation_window")


class Migration(migrations.Migration):
    dependencies = [("messaging", "0006_message_store_from_file")]

    operations = [migrations.RunSQL(PREVIOUS.DROP, PREVIOUS.CREATE)]
