"""Rate limits per client IP and per hotkey, counted in memory or in a shared Redis.

The counting itself lives in app/shared_store.py (a sliding window counter: two counters
per limit and identity, whatever the limit, so a proxy's address under
`RATE_LIMIT_IP=1000000/minute` costs what any other does). The count is an approximation
that assumes the previous window's requests were spread evenly; unlike a fixed window, it
does not allow a doubled burst across a window boundary. Per-hotkey quotas of signed
requests are counted together with the signature's one-time claim (`admit`).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from functools import lru_cache
from typing import Literal

from limits import RateLimitItem
from starlette.types import ASGIApp, Receive, Scope, Send

from app import quotas as chosen
from app.errors import RateLimited, ServiceError, error_response, note_refusal
from app.redis_store import RedisStore
from app.route_names import name_route
from app.shared_store import Counter, MemoryStore, Quota, Ticket, Verdict
from app.stores import StoreUnavailable
from config import Settings

logger = logging.getLogger(__name__)

Store = MemoryStore | RedisStore

LimitScope = Literal[
    "ip", "miner", "validator", "ondemand_poll", "ondemand_failures", "file_uploads", "trusted"
]
HotkeyKind = Literal["ondemand_failures"]

# Operators' probes are never limited: behind a proxy that hides client addresses every
# request shares one IP, and a limited health check would take the instance out of service.
UNLIMITED_PATHS = frozenset({"/healthcheck", "/livez", "/healthz", "/readyz", "/metrics"})
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


@lru_cache(maxsize=64)
def quotas(items: tuple[RateLimitItem, ...]) -> tuple[Quota, ...]:
    return tuple(Quota(i.amount, i.get_expiry() * 1000, str(i)) for i in items)


def store_for(settings: Settings) -> Store:
    if settings.uses_shared_store:
        return RedisStore(settings.rate_limit_storage)
    return MemoryStore()


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

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self._owns_store = store is None
        self.store: Store = store if store is not None else store_for(settings)
        self.fail_open = settings.rate_limit_fail_open
        # Signed requests' quotas are chosen per request by app/quotas.py; these two are
        # counted outside that step (before any signature work, and after a failed submit).
        self.quotas: dict[LimitScope, tuple[Quota, ...]] = {
            "ip": quotas(chosen.parsed(settings.rate_limit_ip)),
            "ondemand_failures": quotas(chosen.parsed(settings.rate_limit_ondemand_failures)),
        }
        self._next_fail_open_log = 0.0

    def counter(self, scope: LimitScope, identity: str) -> Counter | None:
        found = self.quotas[scope]
        return Counter(scope, identity, found) if found else None

    async def hit_ip(self, host: str) -> None:
        if self.quotas["ip"]:  # parsing the address is most of the cost when the limit is off
            await self._count("ip", client_key(host), dry=False)

    async def ensure_room(self, kind: HotkeyKind, hotkey: str) -> None:
        """Refuses, without counting, a hotkey that has already used its quota."""
        await self._count(kind, hotkey, dry=True)

    async def hit_hotkey(self, kind: HotkeyKind, hotkey: str) -> None:
        await self._count(kind, hotkey, dry=False)

    async def _count(self, scope: LimitScope, identity: str, *, dry: bool) -> None:
        counter = self.counter(scope, identity)
        if counter is not None:
            await self.count(counter, dry=dry)

    def counter_for(self, quota: chosen.Quota, hotkey: str) -> Counter:
        """The counter of the quota `app.quotas.choose_quota` picked for a request."""
        return Counter(quota.scope, hotkey, quotas(quota.items))

    async def count(self, counter: Counter, *, dry: bool = False) -> Ticket | None:
        """Counts one request, or refuses it; None when the store is down and limits fail open."""
        try:
            verdict = await self.store.count(counter, dry=dry)
        except StoreUnavailable:
            if not self.fail_open:
                raise
            self._log_fail_open(counter.scope)
            return None
        if verdict.status == "limited":
            raise self.refusal(counter.scope, verdict)  # type: ignore[arg-type]
        return verdict.ticket

    def _log_fail_open(self, scope: str) -> None:
        now = time.monotonic()
        if now >= self._next_fail_open_log:
            self._next_fail_open_log = now + FAIL_OPEN_LOG_INTERVAL_SECONDS
            logger.warning("rate limit store unreachable: serving without %s limits", scope)

    @staticmethod
    def refusal(scope: LimitScope, verdict: Verdict) -> RateLimited:
        retry_after = verdict.retry_after
        quota = verdict.quota.text if verdict.quota is not None else "?"
        return RateLimited(
            f"Too many requests from {WHO[scope]}: the limit is {quota}; retry in {retry_after} s.",
            headers={"Retry-After": str(retry_after)},
            limit=scope,
            retry_after=retry_after,
        )

    async def give_back(self, ticket: Ticket) -> None:
        await self.store.give_back(ticket)

    async def close(self) -> None:
        if self._owns_store:
            await self.store.close()


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
            name_route(scope)
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)
