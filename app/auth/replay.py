"""One-time use of signatures and btauth/1 nonces.

Keys only need to outlive the window in which their signature would still be
accepted; older ones are refused as stale before the store is asked.
"""

from __future__ import annotations

import hashlib
import time
from typing import Protocol

import redis.asyncio as aioredis

from app.stores import bounded, redis_pool


class ReplayStore(Protocol):
    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        """True the first time `key` is claimed within its ttl, False afterwards."""
        ...

    async def release(self, key: str) -> None:
        """Makes a claimed key claimable again (its request was refused after the claim)."""
        ...

    async def close(self) -> None: ...


def _digest(key: str) -> bytes:
    # Keys are long ("sig:" + 128 hex digits); 16 bytes of BLAKE2b hold a signature's
    # identity in a third of the memory, and a collision is out of reach (2**-64 at 2**32
    # keys).
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class MemoryReplayStore:
    """Per-process store; replicas or workers each have their own (see RATE_LIMIT_STORAGE)."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._expires: dict[bytes, float] = {}
        self._max_entries = max_entries
        self._next_sweep = 0.0

    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        now = time.monotonic()
        key_digest = _digest(key)
        expires = self._expires.get(key_digest)
        if expires is not None and expires > now:
            return False
        if now >= self._next_sweep or len(self._expires) >= self._max_entries:
            self._sweep(now)
        self._expires[key_digest] = now + ttl_seconds
        return True

    async def release(self, key: str) -> None:
        self._expires.pop(_digest(key), None)

    def _sweep(self, now: float) -> None:
        self._expires = {k: t for k, t in self._expires.items() if t > now}
        self._next_sweep = now + 10.0

    async def close(self) -> None:
        self._expires.clear()


class RedisReplayStore:
    """Shared by every worker and replica using the same Redis: `SET key NX PX ttl`.

    An unreachable Redis raises StoreUnavailable (503): replay checks never fail open.
    """

    PREFIX = "s3auth:replay:"

    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis(connection_pool=redis_pool(url))

    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        async with bounded("replay"):
            stored = await self._client.set(
                self.PREFIX + key, b"1", nx=True, px=max(1, int(ttl_seconds * 1000))
            )
        return bool(stored)

    async def release(self, key: str) -> None:
        async with bounded("replay"):
            await self._client.delete(self.PREFIX + key)

    async def close(self) -> None:
        await self._client.aclose(close_connection_pool=True)
