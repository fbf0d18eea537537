"""The pipelined Redis client: replies reach their own callers, whatever the concurrency."""

from __future__ import annotations

import asyncio

import pytest

from app.resp import ReplyError, RespClient, Script, _Incomplete, encode, parse
from tests.redis_server import RedisServer


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
