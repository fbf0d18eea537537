"""The one-time stores, in process and in Redis: a key is claimable once until it expires."""

from __future__ import annotations

import asyncio

import pytest
import redis

from app.auth.replay import MemoryReplayStore, RedisReplayStore
from app.stores import StoreUnavailable
from tests.redis_server import RedisServer


def test_key_is_claimed_once() -> None:
    async def scenario() -> list[bool]:
        store = MemoryReplayStore()
        return [await store.claim("a", 60), await store.claim("a", 60), await store.claim("b", 60)]

    assert asyncio.run(scenario()) == [True, False, True]


def test_key_is_claimable_again_after_its_ttl() -> None:
    async def scenario() -> list[bool]:
        store = MemoryReplayStore()
        first = await store.claim("a", 0.05)
        await asyncio.sleep(0.1)
        return [first, await store.claim("a", 60)]

    assert asyncio.run(scenario()) == [True, True]


def test_expired_keys_are_swept_when_full() -> None:
    async def scenario() -> int:
        store = MemoryReplayStore(max_entries=10)
        for i in range(10):
            await store.claim(f"old-{i}", 0.01)
        await asyncio.sleep(0.05)
        await store.claim("new", 60)
        return len(store._expires)

    assert asyncio.run(scenario()) == 1


def test_redis_store_claims_a_key_once_across_store_instances(shared_redis: str) -> None:
    async def scenario() -> list[bool]:
        first, second = RedisReplayStore(shared_redis), RedisReplayStore(shared_redis)
        try:
            return [await first.claim("a", 60), await second.claim("a", 60)]
        finally:
            await first.close()
            await second.close()

    assert asyncio.run(scenario()) == [True, False]


def test_redis_store_keys_expire_with_their_ttl(shared_redis: str) -> None:
    async def scenario() -> bool:
        store = RedisReplayStore(shared_redis)
        try:
            await store.claim("short", 0.05)
            await asyncio.sleep(0.2)
            return await store.claim("short", 60)
        finally:
            await store.close()

    assert asyncio.run(scenario()) is True
    with redis.Redis.from_url(shared_redis) as client:
        assert 0 < client.pttl(RedisReplayStore.PREFIX + "short") <= 60_000


def test_unreachable_redis_store_raises_store_unavailable(redis_server: RedisServer) -> None:
    async def scenario() -> None:
        store = RedisReplayStore(redis_server.url)
        try:
            await store.claim("a", 60)
        finally:
            await store.close()

    redis_server.stop()
    with pytest.raises(StoreUnavailable) as refused:
        asyncio.run(scenario())
    assert refused.value.status == 503
    assert refused.value.code == "store_unavailable"
