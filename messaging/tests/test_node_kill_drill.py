"""The node-kill drill of bench/drills.py, test-sized: two server instances, sockets on both, a fixed
stream of sends, one instance killed with SIGKILL halfway. Its clients reconnect to the other,
resend what was not acknowledged and catch up: nothing lost, nothing doubled."""

import pytest

from bench.drills import Node, make_people, run_drill
from bench.servers import wait_until_up
from core.tests.live_server import server_env

pytestmark = [pytest.mark.drill, pytest.mark.django_db(transaction=True)]


def test_killing_a_node_mid_stream_loses_and_doubles_nothing(tmp_path):
    people = make_people(60, 10, "test")
    env = server_env(DEBUG="false", LOG_LEVEL="WARNING", ALLOWED_WS_ORIGINS="")
    nodes = [Node(env, tmp_path, n) for n in range(2)]
    try:
        for node in nodes:
            wait_until_up(node.port, 60)

        async def kill_the_second():
            nodes[1].kill()

        figures, _ = run_drill(
            ports=[node.port for node in nodes],
            people=people,
            rate=20,
            seconds=6,
            fault=kill_the_second,
            fault_at=3,
            drain=30,
        )
    finally:
        for node in nodes:
            node.stop()
    assert figures.sent == figures.acked == figures.stored == 120
    assert figures.lost == 0, figures.lost_examples
    assert figures.doubled == 0
    assert figures.reconnected == figures.dropped_sockets == 30  # every client of the killed node came back
    assert figures.live + figures.caught_up == figures.expected == 1200
