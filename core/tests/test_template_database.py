"""The test database is cloned from a template kept per digest of the schema's sources
(core/tests/template_database.py): a changed migration or SQL file is a new template, never a stale one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.tests import template_database


def test_the_database_the_tests_run_on_has_every_migration_applied(db):
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []


@pytest.mark.parametrize(
    "changed", ["leads/migrations/0002_more.py", "messaging/sql/message_store_v3.sql", "constraints.txt"]
)
def test_a_changed_migration_sql_file_or_pin_is_another_template(tmp_path, monkeypatch, changed):
    for name in (
        "leads/migrations/0001_initial.py",
        "leads/migrations/0002_more.py",
        "messaging/sql/message_store_v3.sql",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("operations = []\n")
    (tmp_path / "constraints.txt").write_text("Django==5.2\n")
    monkeypatch.setattr(template_database, "ROOT", tmp_path)
    before = template_database.schema_digest()
    (tmp_path / "leads/tests").mkdir(parents=True)
    (tmp_path / "leads/tests/test_x.py").write_text("def test(): pass\n")  # not part of the schema
    assert template_database.schema_digest() == before
    (tmp_path / changed).write_text((tmp_path / changed).read_text() + "# changed\n")
    assert template_database.schema_digest() != before
