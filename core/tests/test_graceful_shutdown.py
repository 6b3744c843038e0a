"""A node stopped with SIGTERM (a deploy) in the middle of a stream of sends, against real production
servers: its sockets are closed with 1012 (service restart) once the frame in hand is answered, their
clients reconnect to the other node, resend what was not acknowledged and catch up. Every acknowledged
message is stored, every stored message reached every member live or by catch-up, none twice."""

from pathlib import Path

import pytest

from bench.drills import Node, make_people, run_drill
from bench.servers import wait_until_up
from core.edge import CLOSE_SERVICE_RESTART
from core.tests.live_server import server_env, server_kind

pytestmark = [
    pytest.mark.drill,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(server_kind() != "granian", reason="crm_project.serve is the production server (granian)"),
]


def test_a_node_stopped_with_sigterm_mid_stream_closes_its_sockets_with_1012_and_loses_nothing(tmp_path):
    people = make_people(60, 10, "term")
    env = server_env(DEBUG="false", LOG_LEVEL="INFO", ALLOWED_WS_ORIGINS="")
    nodes = [Node(env, tmp_path, n) for n in range(2)]
    try:
        for node in nodes:
            wait_until_up(node.port, 60)

        async def stop_the_second():
            nodes[1].terminate()

        figures, _ = run_drill(
            ports=[node.port for node in nodes],
            people=people,
            rate=20,
            seconds=6,
            fault=stop_the_second,
            fault_at=3,
            drain=30,
        )
        assert nodes[1].process.wait(15) == 0  # stopped by itself, within the grace: nothing killed it
        log = Path(nodes[1].log.name).read_text()
    finally:
        for node in nodes:
            node.stop()
    # every client of the stopped node was told to reconnect, none just dropped (one that came back to
    # it while it stopped was told again)
    assert set(figures.close_codes) == {CLOSE_SERVICE_RESTART} and figures.close_codes[CLOSE_SERVICE_RESTART] >= 30
    assert figures.reconnected == figures.dropped_sockets == 30
    assert figures.sent == figures.acked == figures.stored == 120
    assert figures.stored_twice == 0 and figures.doubled == 0
    assert figures.lost == 0, figures.lost_examples
    assert figures.live + figures.caught_up == figures.expected == 1200
    assert "stopping: closing 30 sockets with 1012" in log
    assert "Traceback" not in log
