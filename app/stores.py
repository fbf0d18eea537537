"""The shared backend behind rate limits and replay protection (RATE_LIMIT_STORAGE).

Every call to Redis is bounded: short socket timeouts (app/resp.py) and a hard deadline
around the whole call, so a Redis that is down or silent turns into a clear 503 in about
a second, never a hang.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.exceptions import RedisError

from app.errors import Unavailable

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 0.5
# Covers one attempt and its retry, each bounded by the socket timeouts.
CALL_DEADLINE_SECONDS = 1.5
RETRY_AFTER_SECONDS = 5
# An outage fails every request; one log line per interval says why without flooding.
LOG_INTERVAL_SECONDS = 30.0
_next_log = 0.0


class StoreUnavailable(Unavailable):
    code = "store_unavailable"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"The shared {what} store (Redis) is not reachable; retry shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


@asynccontextmanager
async def bounded(what: str) -> AsyncIterator[None]:
    """Runs a store call under the deadline; any failure of the store is a 503."""
    try:
        async with asyncio.timeout(CALL_DEADLINE_SECONDS):
            yield
    except (RedisError, OSError, TimeoutError) as exc:
        log_outage(what, exc)
        raise StoreUnavailable(what) from exc


def log_outage(what: str, exc: BaseException) -> None:
    global _next_log
    now = time.monotonic()
    if now >= _next_log:
        _next_log = now + LOG_INTERVAL_SECONDS
        # The exception names host and port, never the URL's password.
        logger.error("%s store (Redis) unavailable: %s: %s", what, type(exc).__name__, exc)
