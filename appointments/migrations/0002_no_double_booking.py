"""The database refuses two overlapping scheduled appointments of one consultant.

With the btree_gist extension (any packaged PostgreSQL): EXCLUDE (consultant_id WITH =,
tstzrange(start, end) WITH &&). The private PostgreSQL that `make run` / `make test` start
(the pgserver package) ships no contrib extensions, so there the same rule is one range per
consultant on a numeric axis (consultant_id * 10^11 + epoch seconds), which GiST compares
natively. Both answer the same constraint name, which the booking service turns into a 409.
"""

from django.db import migrations

NAME = "appointment_no_double_booking"

WITH_BTREE_GIST = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE appointments_appointment ADD CONSTRAINT {NAME}
    EXCLUDE USING gist (consultant_id WITH =, tstzrange("start", "end") WITH &&) WHERE (status = 'scheduled');
"""

WITHOUT_EXTENSIONS = f"""
ALTER TABLE appointments_appointment ADD CONSTRAINT {NAME}
    EXCLUDE USING gist (numrange(
        consultant_id * 100000000000::numeric + extract(epoch FROM ("start" AT TIME ZONE 'UTC'))::numeric,
        consultant_id * 100000000000::numeric + extract(epoch FROM ("end" AT TIME ZONE 'UTC'))::numeric
    ) WITH &&) WHERE (status = 'scheduled');
"""


def add_constraint(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gist'")
        available = cursor.fetchone() is not None
    schema_editor.execute(WITH_BTREE_GIST if available else WITHOUT_EXTENSIONS)


def drop_constraint(apps, schema_editor):
    schema_editor.execute(f"ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]
    operations = [migrations.RunPython(add_constraint, drop_constraint)]
