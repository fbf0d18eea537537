"""The shared store in Redis: the decisions of app/shared_store.py, one script per call."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from app.resp import Arg, RespClient, Script
from app.shared_store import (
    HORIZON_KEY,
    Claim,
    Counter,
    Ticket,
    Verdict,
    limited,
    now_ms,
)
from app.stores import StoreUnavailable, bounded

logger = logging.getLogger(__name__)

HORIZON_CHECK_SECONDS = 1.0

# Shared by both scripts. Quotas start at KEYS[k] (this window's, previous window's) and
# ARGV[a] (amount, period in ms); ARGV[1] is the caller's time in ms.
_QUOTAS_LUA = """
local function first_full(k, a)
  local now = tonumber(ARGV[1])
  local i = 0
  while KEYS[k + 2 * i] do
    local amount, period = tonumber(ARGV[a + 2 * i]), tonumber(ARGV[a + 2 * i + 1])
    local pair = redis.call('MGET', KEYS[k + 2 * i], KEYS[k + 2 * i + 1])
    local cur, prev = tonumber(pair[1] or 0), tonumber(pair[2] or 0)
    if prev * (period - now % period) / period + cur + 1 > amount then
      return {-2, i, cur, prev}
    end
    i = i + 1
  end
  return nil
end
local function count_all(k, a)
  local i = 0
  while KEYS[k + 2 * i] do
    if redis.call('INCR', KEYS[k + 2 * i]) == 1 then
      redis.call('PEXPIRE', KEYS[k + 2 * i], 2 * tonumber(ARGV[a + 2 * i + 1]))
    end
    i = i + 1
  end
end
local function horizon()
  local value = redis.call('GET', KEYS[1])
  if not value then
    -- Redis's clock, when the key is found missing: after whatever lost it.
    local t = redis.call('TIME')
    value = t[1] .. string.rep('0', 6 - #t[2]) .. t[2]
    redis.call('SET', KEYS[1], value)
  end
  return value
end
"""

# ARGV[2]: "1" to look without counting. Returns 1, or {-2, quota index, cur, prev}.
_COUNT_LUA = (
    _QUOTAS_LUA
    + """
local full = first_full(1, 3)
if full then return full end
if ARGV[2] ~= '1' then count_all(1, 3) end
return 1
"""
)

# KEYS: horizon, claim, quota pairs. ARGV: now ms, signed at (microseconds, "" for none),
# claim ttl ms, quotas. Returns 1 admitted, 0 replayed, -1 signed before the horizon,
# or {-2, quota index, cur, prev}.
_ADMIT_LUA = (
    _QUOTAS_LUA
    + """
local start = horizon()
if ARGV[2] ~= '' and tonumber(ARGV[2]) < tonumber(start) then return -1 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[3]) then return 0 end
local full = first_full(3, 4)
if full then
  redis.call('DEL', KEYS[2])
  return full
end
count_all(3, 4)
return 1
"""
)

_HORIZON_LUA = _QUOTAS_LUA + "return horizon()"

# KEYS: the claim ("" when none), then counters to take one off.
_GIVE_BACK_LUA = """
if KEYS[1] ~= '' then redis.call('DEL', KEYS[1]) end
for i = 2, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or 0) > 0 then redis.call('DECR', KEYS[i]) end
end
return 1
"""


def _quota_args(counter: Counter | None, now: int) -> tuple[list[str], list[Arg]]:
    keys: list[str] = []
    args: list[Arg] = []
    if counter is not None:
        for quota in counter.quotas:
            keys.extend(counter.keys(quota, now))
            args.extend((quota.amount, quota.period_ms))
    return keys, args


class RedisStore:
    """Shared by every worker and replica on the same Redis; one pipelined connection each.

    An unreachable Redis raises StoreUnavailable (503) through `bounded`.
    """

    def __init__(self, url: str) -> None:
        self._client = RespClient(url)
        # EVALSHA per call; on NOSCRIPT (a restarted or flushed Redis) EVAL loads it again.
        self._count = Script(self._client, _COUNT_LUA)
        self._admit = Script(self._client, _ADMIT_LUA)
        self._horizon = Script(self._client, _HORIZON_LUA)
        self._give_back = Script(self._client, _GIVE_BACK_LUA)
        self._watch: asyncio.Task[None] | None = None

    async def open(self) -> None:
        try:
            await self.horizon()
        except StoreUnavailable:
            logger.warning("replay store (Redis) unreachable at start; horizon set on first use")
        self._watch = asyncio.create_task(self._watch_horizon())

    async def _watch_horizon(self) -> None:
        # Finds a loss of Redis's data within a second even when no request comes, so
        # only signatures made in that second are refused as signed before the store.
        while True:
            await asyncio.sleep(HORIZON_CHECK_SECONDS)
            with contextlib.suppress(StoreUnavailable):
                await self.horizon()

    async def horizon(self) -> float:
        with bounded("replay"):
            value = await self._horizon([HORIZON_KEY], [])
        return int(value) / 1_000_000  # type: ignore[arg-type]

    async def count(self, counter: Counter, *, dry: bool = False) -> Verdict:
        now = now_ms()
        keys, args = _quota_args(counter, now)
        with bounded("rate limit"):
            result = await self._count(keys, [now, "1" if dry else "0", *args])
        if result != 1:
            return limited(counter, int(result[1]), int(result[2]), int(result[3]), now)
        return Verdict("admitted", Ticket(None, () if dry else tuple(keys[::2])))

    async def admit(self, claim: Claim, counter: Counter | None) -> Verdict:
        now = now_ms()
        keys, args = _quota_args(counter, now)
        signed = "" if claim.signed_at is None else round(claim.signed_at * 1_000_000)
        with bounded("replay"):
            result = await self._admit(
                [HORIZON_KEY, claim.redis_key(), *keys], [now, signed, max(1, claim.ttl_ms), *args]
            )
        if result == 1:
            return Verdict("admitted", Ticket(claim.redis_key(), tuple(keys[::2])))
        if result == 0:
            return Verdict("replayed")
        if result == -1:
            return Verdict("before_horizon")
        assert counter is not None
        return limited(counter, int(result[1]), int(result[2]), int(result[3]), now)

    async def give_back(self, ticket: Ticket) -> None:
        with bounded("replay"):
            await self._give_back([ticket.claim or "", *ticket.counted], [])

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self._client.close()
