"""docs/quickstart-clients.md, run as written: its JavaScript block, on the SDK (clients/sdk), against a
live server (only the address changes); and type-checked as TypeScript against the SDK's types."""

import re
import shutil
import subprocess

import pytest

from accounts.tests.factories import ConsultantFactory
from clients.tests.test_sdk import SDK, build_sdk, node_flags
from core.tests.live_server import ROOT, daphne_servers
from messaging.models import Message
from messaging.tests.factories import make_conversation
from offices.tests.factories import OfficeFactory

pytestmark = pytest.mark.django_db(transaction=True)
NODE = shutil.which("node")
ADDRESS = 'createClient({ baseUrl: "http://localhost:8000" })'


def snippet() -> str:
    text = (ROOT / "docs" / "quickstart-clients.md").read_text()
    blocks = re.findall(r"```js\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 1, "the quickstart is one script"
    return blocks[0]


def test_the_quickstart_is_under_30_lines():
    lines = [line for line in snippet().splitlines() if line.strip() and not line.strip().startswith("//")]
    assert len(lines) < 30, len(lines)


def test_the_quickstart_runs_as_written(tmp_path):
    assert NODE, "Node.js runs the quickstart"
    script = snippet()
    assert script.count(ADDRESS) == 1
    office = OfficeFactory(name="London")
    me = ConsultantFactory(office=office, email="consultant0.london@demo.example.com", first_name="Ada")
    me.set_password("demo-Pass-2024")
    me.save()
    make_conversation(me, ConsultantFactory(office=office), office=office)
    build_sdk()
    # Inside the package, so `import ... from "@consultancy-crm/sdk"` resolves to it (as it would installed).
    run = SDK / "test-output"
    run.mkdir(exist_ok=True)
    (run / "quickstart.ts").write_text(script)  # the same text, checked against the SDK's types
    checked = subprocess.run(
        [SDK / "node_modules" / ".bin" / "tsc", "--noEmit", "-p", "test/quickstart.tsconfig.json"],
        cwd=SDK,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    with daphne_servers(tmp_path) as (ports, _):
        (run / "quickstart.mjs").write_text(script.replace("http://localhost:8000", f"http://127.0.0.1:{ports[0]}"))
        done = subprocess.run(
            [NODE, *node_flags(), str(run / "quickstart.mjs")], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1. signed in as Ada " + me.last_name + " (consultant)"
    assert lines[1].startswith("2. 1 conversations")
    assert lines[2] == "3. 0 messages, up to seq 0"
    assert lines[3] == "4. socket ready"
    assert lines[4] == "5. sent over the socket as seq 1"
    assert lines[5] == "   live: #1 Hello from the quickstart, #2 And one over REST"
    assert list(Message.objects.order_by("seq").values_list("content", flat=True)) == [
        "Hello from the quickstart",
        "And one over REST",
    ]
