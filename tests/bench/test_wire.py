"""The subnet hour's HTTP client: each neuron's own connections, whole answers, no stale reuse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bench.wire import Answer, NeuronClient, NoAnswer

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return await reader.readexactly(length)


def _serve(handler: Handler, scenario: Callable[[NeuronClient], Awaitable[object]]) -> object:
    async def run() -> object:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = NeuronClient("127.0.0.1", port, timeout=2)
        try:
            return await scenario(client)
        finally:
            await client.aclose()
            await asyncio.sleep(0.05)  # the handlers see the client's close and end
            server.close()

    return asyncio.run(run())


def test_each_neuron_keeps_its_own_connection_across_requests() -> None:
    peers: list[object] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername"))
        try:
            while body := await _read_request(reader):
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        except asyncio.IncompleteReadError:  # the client closed its connection
            writer.close()

    async def scenario(client: NeuronClient) -> list[Answer]:
        return [
            await client.request(owner, "POST", "/echo", {}, b'{"n":%d}' % n)
            for n, owner in enumerate(["miner-a", "miner-a", "miner-b", "miner-a"])
        ]

    answers = _serve(echo, scenario)
    assert [a.json() for a in answers] == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]  # type: ignore[union-attr]
    assert len(peers) == 2


def test_a_chunked_answer_arrives_whole() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n\r\n"
            b'5\r\n{"cod\r\n12\r\ne":"rate_limited"}\r\n0\r\n\r\n'
        )
        await reader.read()  # until the client closes
        writer.close()

    async def scenario(client: NeuronClient) -> Answer:
        return await client.request("miner-a", "GET", "/list", {})

    answer = _serve(chunked, scenario)
    assert isinstance(answer, Answer)
    assert (answer.status_code, answer.json()) == (429, {"code": "rate_limited"})


def test_a_connection_the_service_closed_while_idle_is_replaced_not_reused() -> None:
    connections = 0

    async def once_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()  # as a keep-alive timeout would, without Connection: close

    async def scenario(client: NeuronClient) -> list[int]:
        first = await client.request("miner-a", "POST", "/poll", {}, b"")
        await asyncio.sleep(0.05)  # the close reaches the client's idle connection
        second = await client.request("miner-a", "POST", "/poll", {}, b"")
        return [first.status_code, second.status_code]

    assert _serve(once_then_close, scenario) == [200, 200]
    assert connections == 2


def test_a_service_that_hangs_up_without_answering_gives_no_answer() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    async def scenario(client: NeuronClient) -> object:
        with pytest.raises(NoAnswer):
            await client.request("miner-a", "POST", "/poll", {}, b"{}")
        return None

    _serve(hang_up, scenario)
