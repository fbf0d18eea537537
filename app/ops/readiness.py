"""`/readyz`: can this replica serve requests now? One small check per dependency.

Each check has its own time bound and they run at once, so the answer comes within
`CHECK_SECONDS` (under the 2 s an orchestrator's probe allows) whatever hangs. The
verdict is a pure function of the checks' results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio as aioredis
from sqlalchemy import text

from app.db import Database
from app.metagraph import MetagraphCache
from app.storage.bucket import BucketProbe

CHECK_SECONDS = 1.5
CheckStatus = Literal["ok", "failing", "not_configured"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    status: CheckStatus
    reason: str | None = None

    def as_json(self) -> dict[str, str]:
        body = {"status": self.status}
        if self.reason is not None:
            body["reason"] = self.reason
        return body


OK = CheckResult("ok")


def verdict(results: dict[str, CheckResult]) -> tuple[int, dict[str, Any]]:
    """200 ready when no check fails; else 503 naming each failing check with its reason."""
    ready = all(result.status != "failing" for result in results.values())
    body = {
        "status": "ready" if ready else "not_ready",
        "checks": {name: result.as_json() for name, result in results.items()},
    }
    return (200 if ready else 503), body


def metagraph_check(cache: MetagraphCache, max_age_seconds: float) -> CheckResult:
    if cache.snapshot is None:
        return CheckResult("failing", "the metagraph has not been loaded yet")
    if not cache.is_fresh():
        age = cache.age_seconds() or 0.0
        return CheckResult(
            "failing", f"the metagraph is {age:.0f} s old (over {max_age_seconds:g} s)"
        )
    return OK


async def database_check(db: Database) -> CheckResult:
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return OK


async def bucket_check(probe: BucketProbe) -> CheckResult:
    state = await probe.check(CHECK_SECONDS)
    return OK if state.ok else CheckResult("failing", state.reason)


class RedisPing:
    """A client of its own, so a probe never queues behind request traffic."""

    def __init__(self, url: str) -> None:
        self._client = aioredis.Redis.from_url(
            url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS
        )

    async def __call__(self) -> CheckResult:
        await self._client.ping()
        return OK

    async def close(self) -> None:
        await self._client.aclose()


async def bounded(name: str, check: Callable[[], Awaitable[CheckResult]]) -> CheckResult:
    """The check's result, or why it failed, within CHECK_SECONDS."""
    try:
        return await asyncio.wait_for(check(), CHECK_SECONDS)
    except TimeoutError:
        return CheckResult("failing", f"{name} did not answer within {CHECK_SECONDS:g} s")
    except Exception as exc:  # any failure of the dependency is the answer, not a 500
        return CheckResult("failing", f"{name} is unreachable ({type(exc).__name__})")


class Readiness:
    def __init__(
        self,
        *,
        metagraph: MetagraphCache,
        max_age_seconds: float,
        db: Database,
        bucket: BucketProbe,
        redis_url: str | None,
    ) -> None:
        self.metagraph = metagraph
        self.max_age_seconds = max_age_seconds
        self.db = db
        self.bucket = bucket
        self.redis = RedisPing(redis_url) if redis_url else None

    async def checks(self) -> dict[str, CheckResult]:
        redis = self.redis
        database, redis_result, bucket = await asyncio.gather(
            bounded("the database", lambda: database_check(self.db)),
            bounded("Redis", redis) if redis else _not_configured(),
            bounded("S3", lambda: bucket_check(self.bucket)),
        )
        return {
            "metagraph": metagraph_check(self.metagraph, self.max_age_seconds),
            "database": database,
            "redis": redis_result,
            "bucket": bucket,
        }

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()


async def _not_configured() -> CheckResult:
    return CheckResult("not_configured")
