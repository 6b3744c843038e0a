"""docs/websocket.md names every event the consumer handles or emits, and nothing else."""

import ast
import re
from pathlib import Path

from messaging import events
from messaging.consumers import READY, ChatConsumer
from messaging.socket.incoming import CLIENT_EVENTS
from messaging.socket.outgoing import SERVER_EVENTS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "websocket.md").read_text()
ROOT = Path(__file__).resolve().parents[2]


def documented(section: str) -> set[str]:
    part = DOC.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^### `([a-z_]+)`", part, re.MULTILINE))


def emitted_events() -> set[str]:
    """Event names sent anywhere: constants in messaging.events, literal names passed to the
    broadcast helpers or the consumer's relay, and `{"event": "..."}` frames built by hand."""
    names = {v for k, v in vars(events).items() if k.isupper() and isinstance(v, str)}
    senders = {"broadcast_to_users", "broadcast_to_conversation", "_relay"}
    for path in ROOT.glob("*/**/*.py"):
        if {"tests", "bench", ".venv"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in senders and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    names.add(str(node.args[1].value))
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "event" and isinstance(value, ast.Constant):
                        names.add(str(value.value))
    return names - {"ack", "error"}


def test_every_client_event_has_a_handler_and_a_reference_entry():
    handlers = {name[3:] for name in dir(ChatConsumer) if name.startswith("on_")}
    assert set(CLIENT_EVENTS) == handlers
    assert documented("Client → server") == set(CLIENT_EVENTS)


def test_every_server_event_is_documented_and_nothing_else():
    assert documented("Server → client") == set(SERVER_EVENTS) | {READY}  # (`ready`: the consumer's own)


def test_every_emitted_event_is_a_documented_server_event():
    assert emitted_events() - set(SERVER_EVENTS) == set()
