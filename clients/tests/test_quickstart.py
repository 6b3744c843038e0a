"""docs/quickstart-clients.md, run as written: its JavaScript blocks, in order, as one Node script
against a live server (only the address changes)."""

import re
import shutil
import subprocess

import pytest

from accounts.tests.factories import ConsultantFactory
from core.tests.live_server import ROOT, daphne_servers
from messaging.models import Message
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)
NODE = shutil.which("node")


def snippets() -> str:
    text = (ROOT / "docs" / "quickstart-clients.md").read_text()
    return "\n".join(re.findall(r"```js\n(.*?)```", text, re.DOTALL))


def test_the_quickstart_runs_as_written(tmp_path):
    assert NODE, "Node.js runs the quickstart's snippets"
    script = snippets()
    assert script.count('const API = "http://localhost:8000";') == 1
    office = OfficeFactory(name="London")
    me = ConsultantFactory(office=office, email="consultant0.london@demo.example.com", first_name="Ada")
    me.set_password("demo-Pass-2024")
    me.save()
    make_conversation(me, ConsultantFactory(office=office), office=office)

    with daphne_servers(tmp_path) as (ports, _):
        (tmp_path / "quickstart.mjs").write_text(
            script.replace('"http://localhost:8000"', f'"http://127.0.0.1:{ports[0]}"')
        )
        version = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout
        major = int(version.strip("v\n").split(".")[0])
        flags = ["--experimental-websocket"] if major < 22 else []  # a global WebSocket, as in browsers
        done = subprocess.run(
            [NODE, *flags, str(tmp_path / "quickstart.mjs")], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1. signed in as Ada " + me.last_name + " (consultant)"
    assert lines[1].startswith("2. 1 conversations")
    assert lines[2] == "3. 0 messages, up to seq 0"
    assert lines[3] == "4. socket open"
    assert lines[4] == "5. sent over the socket as seq 1"
    assert lines[5] == "   live: #1 Hello from the quickstart, #2 And one over REST"
    assert list(Message.objects.order_by("seq").values_list("content", flat=True)) == [
        "Hello from the quickstart",
        "And one over REST",
    ]
