"""The shared backend behind rate limits and replay protection (RATE_LIMIT_STORAGE).

Every call to Redis is bounded: a connection silent for SOCKET_TIMEOUT_SECONDS is given
up and each call has a deadline, its retry included (app/resp.py), so a Redis that is down
or silent turns into a clear 503 in about a second, never a hang.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType

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


class bounded:
    """`with bounded("replay"):` turns any failure of a store call (each bounded by its
    deadline) into a 503. A class, not a generator: it wraps every signed request."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, RedisError | OSError | TimeoutError):
            log_outage(self.what, exc)
            raise StoreUnavailable(self.what) from exc


def log_outage(what: str, exc: BaseException) -> None:
    global _next_log
    now = time.monotonic()
    if now >= _next_log:
        _next_log = now + LOG_INTERVAL_SECONDS
        # The exception names host and port, never the URL's password.
        logger.error("%s store (Redis) unavailable: %s: %s", what, type(exc).__name__, exc)
