"""The pipelined Redis client: replies reach their own callers, whatever the concurrency."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import pytest
import uvloop

from app.resp import ReplyError, RespClient, Script, _Connection, _Incomplete, encode, parse
from app.stores import CALL_DEADLINE_SECONDS, SOCKET_TIMEOUT_SECONDS
from tests.redis_server import RedisServer
from tests.tcp_proxy import TcpProxy


def test_replies_are_parsed_whole_or_not_at_all() -> None:
    reply = bytearray(b"*3\r\n:-2\r\n$3\r\nabc\r\n*1\r\n:7\r\n")
    assert parse(reply, 0) == ([-2, b"abc", [7]], len(reply))
    with pytest.raises(_Incomplete):
        parse(reply[:-3], 0)
    error, _ = parse(bytearray(b"-NOSCRIPT no script\r\n"), 0)
    assert isinstance(error, ReplyError)
    assert encode(("GET", "k", 5)) == b"*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\n5\r\n"


def test_concurrent_calls_each_get_their_own_reply(shared_redis: str) -> None:
    async def scenario() -> list[object]:
        client = RespClient(shared_redis)
        try:
            return list(
                await asyncio.gather(*(client.execute("INCR", "resp:n") for _ in range(300)))
            )
        finally:
            await client.close()

    assert sorted(asyncio.run(scenario())) == list(range(1, 301))  # type: ignore[type-var]


def test_a_script_unknown_to_redis_is_loaded_and_run(shared_redis: str) -> None:
    async def scenario() -> tuple[object, object]:
        client = RespClient(shared_redis.rsplit("/", 1)[0] + "/1")  # SELECT on connect
        script = Script(client, "return redis.call('INCR', KEYS[1])")
        try:
            await client.execute("SCRIPT", "FLUSH")
            return await script(["resp:s"], []), await script(["resp:s"], [])
        finally:
            await client.close()

    assert asyncio.run(scenario()) == (1, 2)


def test_a_restarted_redis_is_reached_again_on_a_new_connection(
    redis_server: RedisServer,
) -> None:
    async def scenario() -> object:
        client = RespClient(redis_server.url)
        try:
            await client.execute("PING")
            redis_server.stop()
            redis_server.start()
            return await client.execute("PING")
        finally:
            await client.close()

    assert asyncio.run(scenario()) == "PONG"


def _proxied(redis_url: str) -> TcpProxy:
    parts = urlsplit(redis_url)
    return TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)


class _Wire(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent = b""
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent += bytes(data)

    def abort(self) -> None:
        self.aborted = True


def test_a_slow_connection_fails_only_the_calls_past_their_deadline() -> None:
    """Redis keeps talking (a reply trickles in) but too late for the first call: that
    call fails at its deadline, the connection is kept, and the next call gets its reply."""

    async def scenario() -> tuple[object, float, object, bool]:
        loop = asyncio.get_running_loop()
        connection = _Connection()
        wire = _Wire()
        connection.connection_made(wire)
        started = loop.time()
        late = connection.send(("PING",), started + 0.3)
        ended: list[float] = []
        late.add_done_callback(lambda _: ended.append(loop.time() - started))
        kept = connection.send(("ECHO", "kept"), started + 5)
        for _ in range(6):  # 0.6 s of a reply arriving a byte at a time
            await asyncio.sleep(0.1)
            if not late.done():
                connection.data_received(b"+PO"[: 1 + int(loop.time() - started > 0.2)])
        connection.data_received(b"NG\r\n$4\r\nkept\r\n")
        late_outcome = type(late.exception()).__name__
        return late_outcome, ended[0], await kept, wire.aborted

    late_outcome, seconds, kept, aborted = asyncio.run(scenario())
    assert late_outcome == "TimeoutError"
    assert 0.3 <= seconds < 0.45
    assert kept == b"kept"
    assert not aborted


def test_a_silent_connection_is_given_up_and_the_next_call_connects_again(
    shared_redis: str,
) -> None:
    async def scenario() -> tuple[list[object], float, bool]:
        proxy = await _proxied(shared_redis).start()
        client = RespClient(f"redis://127.0.0.1:{proxy.port}")
        try:
            await client.execute("PING")
            first = client._connection
            proxy.hold()  # the open connection's replies stop; new connections flow
            started = time.monotonic()
            replies = await asyncio.gather(*(client.execute("PING") for _ in range(5)))
            seconds = time.monotonic() - started
            return list(replies), seconds, client._connection is not first
        finally:
            await client.close()
            await proxy.stop()

    replies, seconds, reconnected = asyncio.run(scenario())
    assert replies == ["PONG"] * 5
    assert reconnected
    assert SOCKET_TIMEOUT_SECONDS - 0.05 <= seconds < CALL_DEADLINE_SECONDS


@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_a_loop_held_up_past_the_timeout_keeps_a_connection_whose_reply_came(
    shared_redis: str, loop_kind: str
) -> None:
    """The reply arrives while the loop is blocked and the watchdog is overdue: once the
    loop runs again the reply is read and the connection kept, on both event loops."""

    async def scenario() -> tuple[object, bool]:
        client = RespClient(shared_redis)
        try:
            await client.execute("PING")
            first = client._connection
            call = asyncio.ensure_future(client.execute("ECHO", "late but here"))
            await asyncio.sleep(0)  # the command is written
            await asyncio.sleep(0)
            # The loop held up: no reads, no timers.
            time.sleep(SOCKET_TIMEOUT_SECONDS + 0.2)  # noqa: ASYNC251
            return await call, client._connection is first
        finally:
            await client.close()

    runner = uvloop.run if loop_kind == "uvloop" else asyncio.run
    reply, same_connection = runner(scenario())
    assert reply == b"late but here"
    assert same_connection
