"""One-time use of signatures and btauth/1 nonces, with a horizon the stores cannot forget.

Keys only need to outlive the window in which their signature would still be
accepted; older ones are refused as stale before the store is asked.

A store can only refuse what it remembers. Its *horizon* is the moment it started
remembering (app/shared_store.py): for the in-memory store this process's start, for
Redis the moment a claim first found the horizon key missing, which is again the moment
after Redis lost its data (a restart without persistence, a flush, an eviction), in
Redis's own clock to the microsecond. A signature dated before the horizon may already
have been used, and the store cannot tell, so it is refused (401 `signed_before_store`)
rather than accepted twice. There is no grace: a client whose signature was made just
before a restart or a loss of Redis's data gets that 401 once and signs a new request
(today's clients sign every request anew). Not covered: a signature dated ahead of its
signer's real time (clocks may run up to 60 s fast) and used before the restart could be
replayed after it while its date is still after the horizon.
"""

from __future__ import annotations

from typing import Protocol

from app.errors import AuthFailed
from app.redis_store import RedisStore
from app.shared_store import (
    CLAIM_PREFIX,
    HORIZON_KEY,
    Claim,
    Counter,
    MemoryStore,
    Ticket,
    Verdict,
)


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

    async def admit(self, claim: Claim, counter: Counter | None) -> Verdict:
        """Claims and counts together, or neither (app/shared_store.py)."""
        ...

    async def count(self, counter: Counter, *, dry: bool = False) -> Verdict: ...

    async def give_back(self, ticket: Ticket) -> None: ...

    async def open(self) -> None:
        """Start remembering: the horizon is set no later than this."""
        ...

    async def release(self, key: str) -> None:
        """Makes a claimed key claimable again (its request was refused after the claim)."""
        ...

    async def close(self) -> None: ...


class _ClaimsByKey:
    """`claim` and `release` by bare key, for callers with no quota to count."""

    async def claim(self, key: str, ttl_seconds: float, *, signed_at: float | None = None) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        verdict = await self.admit(Claim(key, ttl_ms, signed_at), None)  # type: ignore[attr-defined]
        if verdict.status == "before_horizon":
            raise SignedBeforeStore()
        return verdict.status == "admitted"

    async def release(self, key: str) -> None:
        await self.give_back(Ticket(CLAIM_PREFIX + key, ()))  # type: ignore[attr-defined]


class MemoryReplayStore(_ClaimsByKey, MemoryStore):
    """Per-process store; replicas or workers each have their own (see RATE_LIMIT_STORAGE)."""


class RedisReplayStore(_ClaimsByKey, RedisStore):
    """Shared by every worker and replica using the same Redis.

    An unreachable Redis raises StoreUnavailable (503): replay checks never fail open.
    """

    PREFIX = CLAIM_PREFIX
    HORIZON_KEY = HORIZON_KEY
