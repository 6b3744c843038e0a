"""`make run` serves this machine only unless `HOST=0.0.0.0` asks for the network: the development
server shows demo logins (a super admin's among them) to anyone who can reach it."""

import os
import subprocess

import pytest

from core.tests.live_server import ROOT
from crm_project.serve import arguments


def test_the_launcher_listens_on_loopback_unless_told(monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    assert arguments([])[1].host == "127.0.0.1"
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert arguments([])[1].host == "0.0.0.0"
    assert arguments(["--host", "::1"])[1].host == "::1"


def make_run(**env) -> list[str]:
    """The lines `make run` would run (make -n: nothing runs)."""
    environment = {key: value for key, value in os.environ.items() if key not in ("HOST", "PORT")}
    done = subprocess.run(
        ["make", "-n", "-B", "run"], cwd=ROOT, env={**environment, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize(("env", "host"), [({}, "127.0.0.1"), ({"HOST": "0.0.0.0"}, "0.0.0.0")])
def test_make_run_serves_on_the_host_asked_and_prints_the_logins_right_above(env, host):
    lines = make_run(**env)
    serving = next(n for n, line in enumerate(lines) if line.startswith('echo "Serving on'))
    assert lines[serving - 1].endswith("manage.py demo_logins")
    assert f"http://{host}:8000" in lines[serving]
    # then the background-job worker, and the server itself
    assert any(f"-m crm_project.serve --host {host} --port 8000" in line for line in lines[serving + 1 :])


def test_the_docker_image_listens_on_every_interface():
    assert "crm_project.serve --host 0.0.0.0" in (ROOT / "Dockerfile").read_text()
