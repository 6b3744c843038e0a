"""The embedded path: no DATABASE_URL / REDIS_URL → private PostgreSQL and Redis under the data folder.

Run in subprocesses with the URLs removed from the environment and a private data folder, so
the servers the rest of the suite uses are untouched.
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import asyncio, json
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS embedded_probe (note text)")
    cursor.execute("INSERT INTO embedded_probe VALUES ('kept')")
    cursor.execute("SELECT current_database(), count(*) FROM embedded_probe")
    database, rows = cursor.fetchone()
cache.set("embedded-probe", "cached")

async def roundtrip():
    # Listen first: the pub/sub layer drops what is sent before anyone subscribes.
    layer = get_channel_layer()
    channel = await layer.new_channel()
    listening = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.3)
    await layer.send(channel, {"type": "probe"})
    return await asyncio.wait_for(listening, 10)

received = asyncio.run(roundtrip())
print(json.dumps({"database": database, "rows": rows, "cache": cache.get("embedded-probe"),
                  "channel_layer": received["type"]}))
"""


@pytest.fixture
def embedded_env(tmp_path):
    data = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(CRM_DATA_DIR=str(data), DJANGO_SETTINGS_MODULE="crm_project.settings.dev", PYTHONPATH=str(ROOT))
    tmp_path.chmod(0o755)  # pgserver runs PostgreSQL as its own user when started by root
    yield env
    subprocess.run([sys.executable, "crm_project/embedded.py", "stop"], cwd=ROOT, env=env, capture_output=True)


def run(env, *args):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def urls(output: str) -> dict:
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def test_processes_started_together_share_one_pair_of_servers(embedded_env):
    with ThreadPoolExecutor(3) as pool:
        outputs = list(pool.map(lambda _: run(embedded_env, "crm_project/embedded.py"), range(3)))
    found = [urls(output) for output in outputs]
    assert found[0] == found[1] == found[2]
    assert found[0]["DATABASE_URL"].startswith("postgres://postgres@/crm?host=")
    assert found[0]["REDIS_URL"].startswith("unix://")
    assert len(list(Path(embedded_env["CRM_DATA_DIR"]).glob("pgdata/postmaster.pid"))) == 1


def test_manage_py_uses_the_embedded_servers_and_data_survives_a_restart(embedded_env):
    first = json.loads(run(embedded_env, "manage.py", "shell", "-c", PROBE).splitlines()[-1])
    # Django's RedisCache and channels-redis both accept the unix-socket URL.
    assert first == {"database": "crm", "rows": 1, "cache": "cached", "channel_layer": "probe"}

    run(embedded_env, "crm_project/embedded.py", "stop")
    # After a restart, and with channels-redis' list-based layer this time.
    second_env = {**embedded_env, "CHANNELS_BACKEND": "core"}
    second = json.loads(run(second_env, "manage.py", "shell", "-c", PROBE).splitlines()[-1])
    assert second == {**first, "rows": 2}  # the first row is still there after PostgreSQL restarted


def test_set_urls_start_nothing(embedded_env):
    env = {**embedded_env, "DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": os.environ["REDIS_URL"]}
    run(env, "manage.py", "check")
    assert not Path(embedded_env["CRM_DATA_DIR"], "pgdata").exists()
    assert not Path(embedded_env["CRM_DATA_DIR"], "redis").exists()
