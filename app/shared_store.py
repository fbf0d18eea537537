"""Counters and one-time claims, decided together: in memory here, in Redis by one script
(app/redis_store.py).

A signed request's whole after-proof decision (was this signature used before or before
the store's horizon, does the hotkey have room, then claim and count) is one call: in
Redis one EVALSHA, so with the per-IP count before the proof a signed request costs two
commands. Nothing is written unless everything passes, so a replay or a refused request
spends nothing, and `give_back` undoes an admitted request refused afterwards.

Counting is a sliding window counter: per quota and identity, this window's count and
the previous one's, the previous weighted by how much of it still overlaps the window.
Every key of one identity carries the same hash tag (`{hotkey}`), so a Redis Cluster could
run the script on one node; only the horizon key is global.

Horizon: the moment the store started remembering. Memory: this process's start (a
restarted service is a new process, and the old one served nothing after it exited);
Redis: the moment a script first finds its horizon key missing, in Redis's own clock to
the microsecond, which is after any data loss and so after every claim that was lost. A
signature dated before the horizon may have been used already: refused as signed before
the store.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass
from typing import Literal, NamedTuple

LIMIT_PREFIX = "s3auth:limits:"
CLAIM_PREFIX = "s3auth:replay:"
HORIZON_KEY = "s3auth:replay-horizon"


class Quota(NamedTuple):
    amount: int
    period_ms: int
    text: str  # as the refusal names it: "100 per 1 hour"


@dataclass(frozen=True, slots=True)
class Counter:
    """One identity's quotas, e.g. scope "miner" and a hotkey."""

    scope: str
    identity: str
    quotas: tuple[Quota, ...]

    def keys(self, quota: Quota, now_ms: int) -> tuple[str, str]:
        base = f"{LIMIT_PREFIX}{{{self.identity}}}:{self.scope}:{quota.period_ms}:"
        window = now_ms // quota.period_ms
        return base + str(window), base + str(window - 1)


@dataclass(frozen=True, slots=True)
class Claim:
    key: str
    ttl_ms: int
    signed_at: float | None = None  # unix seconds the signature says it was made
    tag: str | None = None  # the hotkey, so the claim sits in its counters' slot

    def redis_key(self) -> str:
        return CLAIM_PREFIX + (f"{{{self.tag}}}:{self.key}" if self.tag else self.key)


@dataclass(frozen=True, slots=True)
class Ticket:
    """What an admitted request wrote, so a later refusal can take it back."""

    claim: str | None
    counted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Literal["admitted", "replayed", "before_horizon", "limited"]
    ticket: Ticket | None = None
    quota: Quota | None = None
    retry_after: int = 0


def retry_after_seconds(quota: Quota, current: int, previous: int, now_ms: int) -> int:
    """Whole seconds until one more request fits, if nothing else is counted meanwhile."""
    amount, period = quota.amount, quota.period_ms
    elapsed = now_ms % period
    if current + 1 <= amount and previous > 0:
        # Room comes back within this window, as the previous window's weight fades.
        wait = period * (1 - (amount - 1 - current) / previous) - elapsed
    else:
        # This window is full: the next one starts with it as its weighted previous.
        wait = period - elapsed + period * (1 - (amount - 1) / max(current, 1))
    seconds = max(1, math.ceil(max(wait, 0) / 1000))
    # Miners read "409" anywhere in an error as "file already exists"; a second later
    # is as good an answer.
    while "409" in str(seconds):
        seconds += 1
    return seconds


def limited(counter: Counter, index: int, current: int, previous: int, now_ms: int) -> Verdict:
    quota = counter.quotas[index]
    return Verdict(
        "limited", quota=quota, retry_after=retry_after_seconds(quota, current, previous, now_ms)
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- memory -------------------------------------------------------------------------


def process_start_time() -> float:
    """This process's start in wall-clock time, rounded up to the kernel's clock tick."""
    try:
        with open("/proc/self/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks, hertz = int(fields[19]), os.sysconf("SC_CLK_TCK")
        now, since_boot = time.time(), time.clock_gettime(time.CLOCK_BOOTTIME)
        return min(now, now - since_boot + (ticks + 1) / hertz)
    except (OSError, ValueError, IndexError):
        return time.time()


def _digest(key: str) -> bytes:
    # 16 bytes of BLAKE2b hold a signature's identity in a third of the memory of its
    # text, and a collision is out of reach (2**-64 at 2**32 keys).
    return hashlib.blake2b(key.encode(), digest_size=16).digest()


class MemoryStore:
    """Per-process store; workers and replicas each have their own (see RATE_LIMIT_STORAGE)."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self._expires: dict[bytes, float] = {}  # claim digest -> monotonic expiry
        self._counts: dict[str, tuple[int, int]] = {}  # counter key -> (count, expiry ms)
        self._max_entries = max_entries
        self._next_sweep = 0.0
        # A process serves with one store: what it remembers began when the process did.
        self.horizon = process_start_time()

    async def open(self) -> None:
        return None

    async def count(self, counter: Counter, *, dry: bool = False) -> Verdict:
        now = now_ms()
        refusal = self._first_full(counter, now)
        if refusal is not None:
            return refusal
        return Verdict("admitted", Ticket(None, () if dry else self._count(counter, now)))

    async def admit(self, claim: Claim, counter: Counter | None) -> Verdict:
        if claim.signed_at is not None and claim.signed_at < self.horizon:
            return Verdict("before_horizon")
        now = time.monotonic()
        digest = _digest(claim.redis_key())
        expires = self._expires.get(digest)
        if expires is not None and expires > now:
            return Verdict("replayed")
        counted: tuple[str, ...] = ()
        if counter is not None:
            wall = now_ms()
            refusal = self._first_full(counter, wall)
            if refusal is not None:
                return refusal
            counted = self._count(counter, wall)
        if now >= self._next_sweep or len(self._expires) >= self._max_entries:
            self._sweep(now)
        self._expires[digest] = now + claim.ttl_ms / 1000
        return Verdict("admitted", Ticket(claim.redis_key(), counted))

    async def give_back(self, ticket: Ticket) -> None:
        if ticket.claim is not None:
            self._expires.pop(_digest(ticket.claim), None)
        for key in ticket.counted:
            count, expiry = self._counts.get(key, (0, 0))
            if count > 1:
                self._counts[key] = (count - 1, expiry)
            else:
                self._counts.pop(key, None)

    def _value(self, key: str, now: int) -> int:
        count, expiry = self._counts.get(key, (0, 0))
        return count if expiry > now else 0

    def _first_full(self, counter: Counter, now: int) -> Verdict | None:
        for index, quota in enumerate(counter.quotas):
            current_key, previous_key = counter.keys(quota, now)
            current, previous = self._value(current_key, now), self._value(previous_key, now)
            period = quota.period_ms
            if previous * (period - now % period) / period + current + 1 > quota.amount:
                return limited(counter, index, current, previous, now)
        return None

    def _count(self, counter: Counter, now: int) -> tuple[str, ...]:
        keys = []
        for quota in counter.quotas:
            key = counter.keys(quota, now)[0]
            self._counts[key] = (self._value(key, now) + 1, now + 2 * quota.period_ms)
            keys.append(key)
        return tuple(keys)

    def _sweep(self, now: float) -> None:
        self._expires = {k: t for k, t in self._expires.items() if t > now}
        wall = now_ms()
        self._counts = {k: v for k, v in self._counts.items() if v[1] > wall}
        self._next_sweep = now + 10.0

    async def close(self) -> None:
        self._expires.clear()
        self._counts.clear()
