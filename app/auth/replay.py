"""One-time use of signatures and btauth/1 nonces, with a horizon the stores cannot forget.

Keys only need to outlive the window in which their signature would still be
accepted; older ones are refused as stale before the store is asked.

A store can only refuse what it remembers. Its *horizon* is the moment it started
remembering: the process start for the in-memory store, and for Redis the moment the
horizon key was first written, which is again the moment after Redis lost its data (a
restart without persistence, a flush, an eviction), because the key vanishes with the
rest. A signature that could have been accepted before the horizon may already have been
used, and the store cannot tell, so it is refused (401 `signed_before_store`) rather
than accepted twice.

`claim(key, ttl_seconds, signed_at=...)` takes `signed_at` as the unix time the signature
says it was made (legacy and Tao v2 timestamps, btauth/1 nonces); omitted, no horizon
applies. Horizons are whole seconds, rounded down, because legacy timestamps are. A store
that starts (the process, or the service finding no horizon in Redis) backdates its
horizon by `START_GRACE_SECONDS`, so a client that signed just before the start is not
refused: that is safe because no restart completes that quickly (importing the service
alone takes longer), so the previous process accepted nothing that recent. A horizon
reset because Redis lost its data while the service ran gets no grace. Not covered: a
signature dated ahead of its signer's real time (clients' clocks may run up to 60 s
fast) and used before the restart could be replayed after it while its date is still
after the horizon.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Protocol

import redis.asyncio as aioredis

from app.errors import AuthFailed
from app.stores import StoreUnavailable, bounded, redis_pool

logger = logging.getLogger(__name__)


START_GRACE_SECONDS = 1.0


def whole_second(now: float) -> float:
    return float(math.floor(now))


class SignedBeforeStore(AuthFailed):
    code = "signed_before_store"

    def __init__(self) -> None:
        super().__init__(
            "This signature predates the replay store's memory (the service or its Redis "
            "restarted), so it may already have been used; sign a new request."
        )


class ReplayStore(Protocol):
    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        """True the first time `key` is claimed within its ttl, False afterwards.

        Raises SignedBeforeStore when `signed_at` is before the store's horizon.
        """
        ...

    async def open(self) -> None:
        """Start remembering: the horizon is set no later than this."""
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
        self.horizon = whole_second(time.time()) - START_GRACE_SECONDS

    async def open(self) -> None:
        return None

    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        if signed_at is not None and signed_at < self.horizon:
            raise SignedBeforeStore()
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


# KEYS: horizon key, replay key. ARGV: now, signed_at ("" for none), ttl in ms.
# Returns -1 when signed before the horizon, 1 when claimed, 0 when already used. The
# horizon is written with no expiry, so it disappears only when Redis loses its data,
# and the first claim after that starts a new horizon.
_CLAIM_SCRIPT = """
local horizon = redis.call('GET', KEYS[1])
if not horizon then
  redis.call('SET', KEYS[1], ARGV[1])
  horizon = ARGV[1]
end
if ARGV[2] ~= '' and tonumber(ARGV[2]) < tonumber(horizon) then
  return -1
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then
  return 1
end
return 0
"""


class RedisReplayStore:
    """Shared by every worker and replica using the same Redis: `SET key NX PX ttl`.

    An unreachable Redis raises StoreUnavailable (503): replay checks never fail open.
    """

    PREFIX = "s3auth:replay:"
    HORIZON_KEY = "s3auth:replay-horizon"

    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis(connection_pool=redis_pool(url))
        self._claim = self._client.register_script(_CLAIM_SCRIPT)

    async def open(self) -> None:
        # Written at start so that clients signing right after it are not refused; if
        # Redis is down now, the first claim writes it.
        try:
            async with bounded("replay"):
                horizon = whole_second(time.time()) - START_GRACE_SECONDS
                await self._client.set(self.HORIZON_KEY, repr(horizon), nx=True)
        except StoreUnavailable:
            logger.warning("replay store (Redis) unreachable at start; horizon set on first use")

    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        args = (
            repr(whole_second(time.time())),
            "" if signed_at is None else repr(float(signed_at)),
            max(1, int(ttl_seconds * 1000)),
        )
        async with bounded("replay"):
            result = await self._claim(keys=[self.HORIZON_KEY, self.PREFIX + key], args=args)
        if result == -1:
            raise SignedBeforeStore()
        return result == 1

    async def release(self, key: str) -> None:
        async with bounded("replay"):
            await self._client.delete(self.PREFIX + key)

    async def close(self) -> None:
        await self._client.aclose(close_connection_pool=True)
