"""Rate limits per client IP and per hotkey, counted in memory or in a shared Redis.

The `limits` library's sliding window counter does the counting, in memory and in Redis
alike: two counters per limit and identity (this window's and the previous one's), the
previous one weighted by how much of it still overlaps the sliding window. Every check
costs the same whatever the limit: the moving window it replaces kept one timestamp per
counted request, so a proxy's address under `RATE_LIMIT_IP=1000000/minute` paid for a
million-entry list on every request. The count is an approximation that assumes the
previous window's requests were spread evenly; like the moving window, and unlike a
fixed window, it does not allow a doubled burst across a window boundary.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Awaitable
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import ConnectionPool
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import RateLimited, ServiceError, error_response, note_refusal
from app.quotas import Quota
from app.stores import StoreUnavailable, bounded, redis_pool
from config import Settings

logger = logging.getLogger(__name__)

LimitScope = Literal[
    "ip", "miner", "validator", "ondemand_poll", "ondemand_failures", "file_uploads", "trusted"
]
HotkeyKind = Literal["miner", "validator", "ondemand_poll", "ondemand_failures"]

# Operators' probes are never limited: behind a proxy that hides client addresses every
# request shares one IP, and a limited health check would take the instance out of service.
UNLIMITED_PATHS = frozenset({"/healthcheck", "/livez", "/metrics"})
FAIL_OPEN_LOG_INTERVAL_SECONDS = 60.0

WHO = {
    "ip": "this IP address",
    "miner": "this miner hotkey",
    "validator": "this validator hotkey",
    "ondemand_poll": "this miner hotkey's on-demand polls",
    "ondemand_failures": "this miner hotkey's failed on-demand submissions",
    "file_uploads": "this miner hotkey's upload URLs",
    "trusted": "this trusted validator hotkey",
}


def parse_limits(value: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(value)) if value else ()


def storage_for(settings: Settings) -> tuple[Storage, ConnectionPool | None]:
    """The limits storage for RATE_LIMIT_STORAGE, and the Redis pool to close after it."""
    url = settings.rate_limit_storage
    if not settings.uses_shared_store:
        return MemoryStorage(), None
    pool = redis_pool(url)
    # The pool carries the connection; the URI only tells `limits` which client to use.
    if url.startswith("unix://"):
        uri = "async+redis+unix://" + url.removeprefix("unix://")
    else:
        uri = "async+" + url
    storage = RedisStorage(
        uri, implementation="redispy", key_prefix="s3auth:limits", connection_pool=pool
    )
    return storage, pool


def client_key(host: str) -> str:
    """An IPv6 client is counted by its /64: one host usually holds the whole block."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RateLimits:
    """Counts requests and refuses the one that would exceed a limit with 429."""

    def __init__(self, settings: Settings) -> None:
        self.storage, self._pool = storage_for(settings)
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.fail_open = settings.rate_limit_fail_open
        self.items: dict[LimitScope, tuple[RateLimitItem, ...]] = {
            "ip": parse_limits(settings.rate_limit_ip),
            "miner": parse_limits(settings.rate_limit_miner),
            "validator": parse_limits(settings.rate_limit_validator),
            "ondemand_poll": parse_limits(settings.rate_limit_ondemand_poll),
            "ondemand_failures": parse_limits(settings.rate_limit_ondemand_failures),
        }
        self._next_fail_open_log = 0.0

    async def hit_ip(self, host: str) -> None:
        if self.items["ip"]:  # parsing the address is most of the cost when the limit is off
            await self._hit("ip", client_key(host))

    async def ensure_room(self, kind: HotkeyKind, hotkey: str) -> None:
        """Refuses, without counting, a hotkey that has already used its quota."""
        for item in self.items[kind]:
            if not await self._call(kind, self.limiter.test(item, kind, hotkey)):
                await self._refuse(kind, item, hotkey)

    async def hit_hotkey(self, kind: HotkeyKind, hotkey: str) -> None:
        await self._hit(kind, hotkey)

    async def hit_quota(self, quota: Quota, hotkey: str) -> None:
        """Counts a request against the quota `app.quotas.choose_quota` picked for it."""
        await self._hit(quota.scope, hotkey, quota.items)

    async def _hit(
        self, scope: LimitScope, identity: str, items: tuple[RateLimitItem, ...] | None = None
    ) -> None:
        for item in self.items[scope] if items is None else items:
            if not await self._call(scope, self.limiter.hit(item, scope, identity)):
                await self._refuse(scope, item, identity)

    async def _call(self, scope: LimitScope, call: Awaitable[bool]) -> bool:
        """Awaits a limiter call; an unreachable store allows the request only if fail-open."""
        try:
            async with bounded("rate limit"):
                return bool(await call)
        except StoreUnavailable:
            if not self.fail_open:
                raise
            now = time.monotonic()
            if now >= self._next_fail_open_log:
                self._next_fail_open_log = now + FAIL_OPEN_LOG_INTERVAL_SECONDS
                logger.warning("rate limit store unreachable: serving without %s limits", scope)
            return True

    async def _refuse(self, scope: LimitScope, item: RateLimitItem, identity: str) -> None:
        retry_after = item.get_expiry()
        try:
            async with bounded("rate limit"):
                stats = await self.limiter.get_window_stats(item, scope, identity)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        except StoreUnavailable:
            pass
        # Miners read "409" anywhere in an error as "file already exists"; a second later
        # is as good an answer.
        while "409" in str(retry_after):
            retry_after += 1
        raise RateLimited(
            f"Too many requests from {WHO[scope]}: the limit is {item}; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
            limit=scope,
            retry_after=retry_after,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
        timer = getattr(self.storage, "timer", None)
        if timer is not None:
            timer.cancel()


class IpRateLimit:
    """Counts every request against its client IP before routing, parsing or signatures."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        if scope["type"] != "http" or services is None or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            await services.limits.hit_ip(client[0] if client else "unknown")
        except ServiceError as error:
            note_refusal(scope, error)
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
