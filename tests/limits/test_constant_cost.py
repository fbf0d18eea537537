"""A limit's bookkeeping does not grow with the limit: two counters, whatever N is."""

from __future__ import annotations

import asyncio

import redis

from app.limits import RateLimits
from tests.conftest import SettingsFactory

HITS = 3000


def test_memory_limits_keep_counters_not_one_entry_per_request(
    make_settings: SettingsFactory,
) -> None:
    async def scenario() -> tuple[int, int]:
        limits = RateLimits(make_settings(rate_limit_ip="1000000/minute"))
        try:
            for _ in range(HITS):
                await limits.hit_ip("203.0.113.7")
            counts = limits.store._counts  # type: ignore[union-attr]
            return sum(1 for _ in counts if "203.0.113.7" not in _), len(counts)
        finally:
            await limits.close()

    timestamps, counters = asyncio.run(scenario())

    assert timestamps == 0  # a moving window would hold one per request: 3000
    assert counters <= 2


def test_redis_limits_keep_counters_not_one_entry_per_request(
    make_settings: SettingsFactory, shared_redis: str
) -> None:
    async def scenario() -> None:
        limits = RateLimits(
            make_settings(rate_limit_ip="1000000/minute", rate_limit_storage=shared_redis)
        )
        try:
            for _ in range(HITS):
                await limits.hit_ip("203.0.113.7")
        finally:
            await limits.close()

    asyncio.run(scenario())

    with redis.Redis.from_url(shared_redis) as client:
        keys = list(client.scan_iter("s3auth:limits*"))
        assert 1 <= len(keys) <= 2
        for key in keys:
            assert client.type(key) == b"string"  # a counter, not a list of timestamps
            assert int(client.get(key) or 0) <= HITS
