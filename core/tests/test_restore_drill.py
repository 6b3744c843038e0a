"""The restore drill: seed, back up, restore into a fresh database and a fresh media folder, serve the
restored copy, and check it as its users would. Runs on whichever server the suite runs on: the
machine's PostgreSQL in `make test`, the embedded one in CI's embedded run (.ci/run runs both).

Everything goes through the doors an operator and a client use: `manage.py migrate / seed / backup /
restore` as processes, then HTTP against a daphne process serving the restored database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from core.tests.databases import FreshDatabase
from core.tests.live_server import start_daphne, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-Pass-2024"  # the seed's


def env_for(database: FreshDatabase, media: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings.test",
        "DATABASE_URL": database.url,
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_NAMESPACE": f"crm.drill.{database.name}",  # events and caches of its own
        "CRM_TEST_MEDIA_ROOT": str(media),
        "MEDIA_ROOT": str(media),
        "TQDM_DISABLE": "1",
        "AUTO_CREATE_CONVERSATIONS": "true",
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def snapshot(database: FreshDatabase) -> dict:
    """What the drill compares: who may sign in, every conversation's history, every document's file."""
    with psycopg.connect(**{**database.params, "dbname": database.name}) as conn:  # type: ignore[arg-type]
        users = [row[0] for row in conn.execute("SELECT email FROM accounts_user WHERE is_active ORDER BY id")]
        histories: dict[int, list[tuple]] = {}
        for conversation_id, seq, sender_id, content in conn.execute(
            "SELECT conversation_id, seq, sender_id, content FROM messaging_message ORDER BY conversation_id, seq"
        ):
            histories.setdefault(conversation_id, []).append((seq, sender_id, content))
        members: dict[int, int] = dict(
            conn.execute(
                "SELECT conversation_id, min(user_id) FROM messaging_participant GROUP BY conversation_id"
            ).fetchall()
        )
        documents = list(conn.execute("SELECT id, student_id, file_key FROM documents_document ORDER BY id"))
    return {"users": users, "histories": histories, "members": members, "documents": documents}


@pytest.fixture
def drill_databases():
    made = [FreshDatabase("drill_source"), FreshDatabase("drill_restored")]
    yield made
    for database in made:
        database.drop()


@pytest.mark.drill
@pytest.mark.django_db
def test_a_restored_backup_serves_the_same_people_histories_and_files(drill_databases, tmp_path):
    source, restored = drill_databases
    source_env = env_for(source, tmp_path / "media-source")
    manage(source_env, "migrate", "--noinput", "-v0")
    manage(source_env, "seed", "--size", "small", "--offices", "1")
    before = snapshot(source)
    assert before["histories"] and before["documents"] and len(before["users"]) >= 5

    archive = tmp_path / "drill.tar"
    manage(source_env, "backup", "--output", str(archive))
    restored_media = tmp_path / "media-restored"
    report = manage(env_for(restored, restored_media), "restore", str(archive))
    assert "Every table's row count and every file's checksum match the backup." in report
    assert snapshot(restored) == before

    server_env = env_for(restored, restored_media, LOGIN_RATE_PER_ADDRESS="1000/min", LOGIN_RATE_PER_ACCOUNT="1000/min")
    with open(tmp_path / "daphne.log", "w+") as log:
        process, port = start_daphne(log, server_env)
        try:
            wait_until_serving([port])
            check_the_restored_site(f"http://127.0.0.1:{port}", before, source_media=tmp_path / "media-source")
        finally:
            process.terminate()
            process.wait(timeout=10)
        log.seek(0)
        assert "Traceback" not in log.read()


def sign_in(base: str, email: str) -> requests.Session:
    answer = requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, (email, answer.text)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer.json()['access']}"
    return session


def history(session: requests.Session, base: str, conversation_id: int) -> list[tuple]:
    rows, url = [], f"{base}/api/v1/conversations/{conversation_id}/messages?after=0&limit=200"
    while url:
        page = session.get(url, timeout=30).json()
        rows += [(m["seq"], m["sender_id"], m["content"]) for m in page["results"]]
        url = page["next"]
    return rows


def check_the_restored_site(base: str, before: dict, *, source_media: Path) -> None:
    sessions = {email: sign_in(base, email) for email in before["users"]}  # the same people sign in
    emails = {}
    for email, session in sessions.items():
        emails[session.get(f"{base}/api/v1/auth/me", timeout=30).json()["id"]] = email

    for conversation_id, expected in before["histories"].items():
        member = sessions[emails[before["members"][conversation_id]]]
        assert history(member, base, conversation_id) == expected  # every seq, in order, as it was
        last = expected[-1][0]
        for n in (1, 2):  # new sends carry on the conversation's seq: no gap, no repeat
            sent = member.post(
                f"{base}/api/v1/messages", json={"conversation_id": conversation_id, "content": f"after restore {n}"}
            )
            assert sent.status_code == 201, sent.text
            assert sent.json()["seq"] == last + n

    for document_id, student_id, file_key in before["documents"]:
        owner = sessions[emails[student_id]]
        download = owner.get(f"{base}/api/v1/documents/{document_id}/download", timeout=30)
        assert download.status_code == 200
        assert download.content == (source_media / file_key).read_bytes()  # byte for byte as uploaded
