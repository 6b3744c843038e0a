"""`manage.py backup` / `restore` against the real server the suite runs on (the machine's PostgreSQL, or
the embedded one in CI's embedded run): a round trip, and every refusal leaving the target untouched."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.tests.factories import StudentFactory
from core.backup import pgtools
from core.backup.archive import MANIFEST
from core.tests.databases import FreshDatabase, database_url
from messaging.models import Message
from messaging.tests.factories import make_conversation, send
from messaging.tests.test_s3_storage import s3_endpoint, s3_storage  # noqa: F401 - fixtures (moto S3 server)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh_db():
    database = FreshDatabase()
    yield database
    database.drop()


def restore(archive: Path, database: FreshDatabase, media: Path) -> subprocess.CompletedProcess[str]:
    """`manage.py restore` as an operator runs it, pointed at the fresh database and media folder."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings.test",
        "DATABASE_URL": database.url,
        "MEDIA_ROOT": str(media),
        "CRM_TEST_MEDIA_ROOT": str(media),
        "DB_POOL_MAX_SIZE": "0",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.fixture
def data(office, consultant):
    """A conversation with messages and a student's stored file: rows and a file to come back."""
    student = StudentFactory(office=office, email="amara@example.com", first_name="Amara")
    chat = make_conversation(consultant, student, office=office)
    for n in range(3):
        send(consultant if n % 2 else student, chat, content=f"message {n}")
    key = default_storage.save("documents/backup-test.pdf", ContentFile(b"%PDF-1.4 transcript\n" + os.urandom(2048)))
    return {"student": student, "chat": chat, "key": key}


@pytest.fixture
def archive(tmp_path, data) -> Path:
    path = tmp_path / "backup.tar"
    call_command("backup", output=str(path), stdout=io.StringIO())
    return path


def manifest_of(path: Path) -> dict:
    with tarfile.open(path) as tar:
        member = tar.extractfile(MANIFEST)
        assert member is not None
        return json.loads(member.read())


def test_a_backup_restores_into_a_fresh_database_and_folder_with_every_row_and_byte(
    archive, data, fresh_db, tmp_path, settings
):
    manifest = manifest_of(archive)
    assert manifest["database"]["server_major"] == connection.pg_version // 10000
    assert manifest["tables"]["public.messaging_message"] == 3
    assert manifest["storage"]["backend"] == "local"
    assert data["key"] in {f["key"] for f in manifest["storage"]["files"]}

    media = tmp_path / "restored-media"
    result = restore(archive, fresh_db, media)

    assert result.returncode == 0, result.stderr
    assert "Every table's row count and every file's checksum match the backup." in result.stdout
    assert "tables checked" in result.stdout
    rows = fresh_db.query(
        f"SELECT seq, content FROM messaging_message WHERE conversation_id = {data['chat'].id} ORDER BY seq"
    )
    assert rows == [(1, "message 0"), (2, "message 1"), (3, "message 2")]
    assert fresh_db.query("SELECT email FROM accounts_user WHERE first_name = 'Amara'") == [("amara@example.com",)]
    with default_storage.open(data["key"]) as original:
        assert (media / data["key"]).read_bytes() == original.read()
    # the sequence continues where it was: a new user does not collide with a restored one
    (next_id,) = fresh_db.query("SELECT nextval('accounts_user_id_seq')")[0]
    assert next_id > data["student"].id


def test_a_backup_never_overwrites(tmp_path, data):
    existing = tmp_path / "backup.tar"
    existing.write_bytes(b"last night's backup")
    with pytest.raises(CommandError, match="never overwrites"):
        call_command("backup", output=str(existing), stdout=io.StringIO())
    assert existing.read_bytes() == b"last night's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.tar"]  # no partial file left


def test_restore_into_a_database_with_tables_is_refused_and_leaves_it_alone(archive, fresh_db, tmp_path):
    fresh_db.query("CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)")
    result = restore(archive, fresh_db, tmp_path / "media")
    assert result.returncode != 0
    assert "is not empty" in result.stderr and "public.precious" in result.stderr
    assert fresh_db.tables() == ["precious"]
    assert fresh_db.query("SELECT id FROM precious") == [(42,)]
    assert not (tmp_path / "media").exists()


def test_restore_into_a_media_folder_with_files_is_refused(archive, fresh_db, tmp_path):
    media = tmp_path / "media"
    (media / "documents").mkdir(parents=True)
    (media / "documents" / "kept.pdf").write_bytes(b"someone's file")
    result = restore(archive, fresh_db, media)
    assert result.returncode != 0 and "holds files" in result.stderr
    assert fresh_db.tables() == []
    assert [p.name for p in (media / "documents").iterdir()] == ["kept.pdf"]


def _nothing_restored(result, fresh_db, media: Path) -> None:
    assert result.returncode != 0
    assert "Nothing restored" in result.stderr
    assert fresh_db.tables() == []
    assert not media.exists() or not any(media.rglob("*"))
    assert not [p for p in media.parent.iterdir() if ".restore-" in p.name]  # no staging folder left behind


@pytest.mark.parametrize("where", ["in the dump", "in a file", "before the manifest", "in the manifest"])
def test_a_truncated_archive_is_refused_with_nothing_restored(archive, fresh_db, tmp_path, where):
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    first_file = next(m for name, m in members.items() if name.startswith("files/"))
    cut_at = {
        "in the dump": members["database.dump"].offset_data + members["database.dump"].size // 2,
        "in a file": first_file.offset_data + first_file.size // 2,
        "before the manifest": members[MANIFEST].offset,
        "in the manifest": members[MANIFEST].offset_data + members[MANIFEST].size // 2,
    }[where]
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[:cut_at])
    media = tmp_path / "media"
    result = restore(cut, fresh_db, media)
    _nothing_restored(result, fresh_db, media)
    assert "truncated" in result.stderr


def _rewrite(archive: Path, target: Path, change) -> None:
    """Copy the archive member by member through `change(name, data) -> data or None (dropped)`."""
    with tarfile.open(archive) as source, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as out:
        for member in source:
            handle = source.extractfile(member)
            data = change(member.name, handle.read() if handle else b"")
            if data is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


def test_a_corrupt_file_in_the_archive_is_refused_with_the_reason(archive, data, fresh_db, tmp_path):
    bad = tmp_path / "bad.tar"

    def flip(name, body):
        return body[:-1] + bytes([body[-1] ^ 1]) if name.endswith(data["key"]) else body

    _rewrite(archive, bad, flip)
    media = tmp_path / "media"
    result = restore(bad, fresh_db, media)
    _nothing_restored(result, fresh_db, media)
    assert "checksum differs" in result.stderr and data["key"] in result.stderr


def test_a_corrupt_dump_is_refused(archive, fresh_db, tmp_path):
    bad = tmp_path / "bad.tar"
    _rewrite(archive, bad, lambda name, body: body[:100] + b"\0" + body[101:] if name == "database.dump" else body)
    media = tmp_path / "media"
    result = restore(bad, fresh_db, media)
    _nothing_restored(result, fresh_db, media)
    assert "database dump" in result.stderr


def test_a_member_outside_the_files_folder_is_refused(archive, fresh_db, tmp_path):
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(archive) as source, tarfile.open(hostile, "w") as out:
        for member in source:
            if member.name == MANIFEST:
                info = tarfile.TarInfo("files/../../escaped.txt")
                info.size = 4
                out.addfile(info, io.BytesIO(b"evil"))
            out.addfile(member, source.extractfile(member))
    media = tmp_path / "media"
    result = restore(hostile, fresh_db, media)
    _nothing_restored(result, fresh_db, media)
    assert "outside its files folder" in result.stderr
    assert not (tmp_path / "escaped.txt").exists()


def test_a_dump_that_fails_half_way_leaves_the_database_as_it_was(archive, fresh_db, tmp_path):
    """pg_restore runs in one transaction. Here it fails at the messages table (a type of that name is in
    the way; a type alone does not make a database "not empty"), after the accounts tables were created:
    none of them is left."""
    fresh_db.query("CREATE TYPE messaging_message AS ENUM ('in the way')")
    media = tmp_path / "media"
    result = restore(archive, fresh_db, media)
    assert result.returncode != 0
    assert "pg_restore failed; the database was left empty" in result.stderr
    assert 'type "messaging_message" already exists' in result.stderr
    assert fresh_db.tables() == []
    assert not media.exists() or not any(media.rglob("*"))


def test_the_client_programs_are_those_of_the_servers_major_version(settings, tmp_path):
    with connection.cursor() as cursor:
        major, _ = pgtools.server_version(cursor)
    tools = pgtools.tools_for(major)
    assert tools.major == major
    out = subprocess.run([tools.program("pg_restore"), "--version"], capture_output=True, text=True).stdout
    assert f" {major}." in out

    # a folder holding another major version only is refused with what was found and what to do
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("pg_dump", "pg_restore"):
        script = fake / name
        script.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
        script.chmod(0o755)
    settings.BACKUP_PG_BIN_DIR = str(fake)
    with pytest.raises(pgtools.ToolsMissing, match=f"PostgreSQL {major} .*found: 9.6.24 in .*BACKUP_PG_BIN_DIR"):
        pgtools.tools_for(major)


def test_backup_counts_rows_from_the_dumps_snapshot(archive):
    """Every table of the database is counted, the project's and the libraries' (sessions, tokens, ...)."""
    manifest = manifest_of(archive)
    assert {"public.django_migrations", "public.accounts_user", "public.messaging_message"} <= set(manifest["tables"])
    assert manifest["tables"]["public.messaging_message"] == Message.objects.count()


def test_with_s3_the_archive_lists_every_object_and_restore_checks_the_bucket(
    s3_storage,  # noqa: F811 - the fixture imported above
    fresh_db,
    tmp_path,
):
    """moto's S3 server (messaging/tests/test_s3_storage.py): objects stay in the bucket, the archive lists
    them; a restore finds one deleted since and says so (exit non-zero), the database restored."""
    kept = default_storage.save("documents/kept.pdf", ContentFile(b"%PDF-1.4 kept"))
    lost = default_storage.save("documents/lost.pdf", ContentFile(b"%PDF-1.4 lost"))
    archive = tmp_path / "s3.tar"
    call_command("backup", output=str(archive), stdout=io.StringIO())

    manifest = manifest_of(archive)
    objects = {o["key"]: o for o in manifest["storage"]["objects"]}
    assert manifest["storage"]["backend"] == "s3" and manifest["storage"]["bucket"] == "crm-test-files"
    assert objects[kept]["size"] == len(b"%PDF-1.4 kept") and objects[kept]["etag"]
    with tarfile.open(archive) as tar:
        assert not [m for m in tar.getnames() if m.startswith("files/")]  # no file copied

    default_storage.delete(lost)
    env_s3 = {
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": "crm-test-files",
        "AWS_S3_ENDPOINT_URL": s3_storage,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_REGION_NAME": "us-east-1",
    }
    old = {key: os.environ.get(key) for key in env_s3}
    os.environ.update(env_s3)
    try:
        result = restore(archive, fresh_db, tmp_path / "media")
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert result.returncode != 0
    assert f"object {lost} is missing from the bucket" in result.stderr
    assert kept not in result.stderr
    assert "S3 objects (left in the bucket) checked: " in result.stdout
    assert "accounts_user" in fresh_db.tables()


def test_the_nightly_task_writes_a_dated_archive_and_keeps_the_newest(tmp_path, settings, data):
    from core import tasks  # noqa: PLC0415

    settings.BACKUP_DIR = tmp_path / "nightly"
    settings.BACKUP_KEEP = 2
    settings.BACKUP_DIR.mkdir()
    for stamp in ("20260101-023000", "20260102-023000"):
        (settings.BACKUP_DIR / f"crm-{stamp}.tar").write_bytes(b"older")
    (settings.BACKUP_DIR / "notes.txt").write_text("not ours")
    written = Path(tasks.nightly_backup())
    assert written.parent == settings.BACKUP_DIR and manifest_of(written)["format"] == "crm-backup"
    kept = sorted(p.name for p in settings.BACKUP_DIR.iterdir())
    assert kept == ["crm-20260102-023000.tar", written.name, "notes.txt"]


def test_a_database_that_does_not_exist_is_a_clear_refusal(archive, tmp_path):
    class Missing:
        url = database_url(pgtools.libpq_params(), "no_such_database_here")

    result = restore(archive, Missing(), tmp_path / "media")
    assert result.returncode != 0 and "cannot reach the database 'no_such_database_here'" in result.stderr
    assert "Traceback" not in result.stderr
