"""The drills' own client (bench/drill_nodes.py's `http_get`, the catch-up's request): a node that stops
mid-answer is a failed connection the client retries, never an answer, and never a crash that stops
the client resending and catching up (CI's node-term drill once counted such a crash as 45 lost
messages: the answer was empty and reading its status raised IndexError)."""

import asyncio

import pytest

from bench.drill_nodes import http_get


async def answering(answer: bytes) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def get(answer: bytes):
    server, port = await answering(answer)
    async with server:
        return await http_get(port, "/api/v1/conversations/1/messages?after=0", "token")


async def test_a_whole_answer_is_read_with_its_status_and_body():
    body = b'{"results": [{"seq": 1}], "next": null}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    assert await get(head + body) == (200, {"results": [{"seq": 1}], "next": None})


async def test_a_chunked_answer_is_joined():
    answer = b'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n'
    assert await get(answer) == (503, {"a": 1})


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b"", id="closed-before-answering"),
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n", id="cut-in-the-headers"),
        pytest.param(b'HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{"results": [', id="cut-in-the-body"),
        pytest.param(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n{}", id="cut-in-a-chunk"),
        pytest.param(b"garbage", id="not-http"),
    ],
)
async def test_an_answer_cut_short_is_a_failed_connection_the_catch_up_retries(answer):
    with pytest.raises(ConnectionResetError):  # an OSError: Client.catch_up waits and asks again
        await get(answer)
