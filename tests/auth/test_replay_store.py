"""The in-process one-time store: a key is claimable once until it expires."""

from __future__ import annotations

import asyncio

from app.auth.replay import MemoryReplayStore


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
