"""Retries with exponential backoff for the failures a retry can fix."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx2

from s3auth_client.errors import ApiError, TransferError

T = TypeVar("T")

MAX_DELAY_SECONDS = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff_seconds: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    # Told before each wait, so a person sees why nothing happens (attempt, error, seconds).
    on_retry: Callable[[int, BaseException, float], None] | None = None

    def delay(self, attempt: int, error: BaseException) -> float:
        hinted = getattr(error, "retry_after", None)
        if isinstance(hinted, int | float) and hinted > 0:
            return min(float(hinted), MAX_DELAY_SECONDS * 2)
        # Full jitter keeps many clients that failed together from retrying together.
        ceiling = min(self.backoff_seconds * 2**attempt, MAX_DELAY_SECONDS)
        return random.uniform(ceiling / 2, ceiling)

    def run(self, call: Callable[[], T]) -> T:
        """`call()` until it succeeds, a permanent error, or the attempts run out."""
        for attempt in range(self.attempts):
            try:
                return call()
            except (ApiError, TransferError, httpx2.TransportError) as error:
                if not is_transient(error) or attempt == self.attempts - 1:
                    raise
                wait = self.delay(attempt, error)
                if self.on_retry is not None:
                    self.on_retry(attempt + 1, error, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def is_transient(error: BaseException) -> bool:
    if isinstance(error, ApiError | TransferError):
        return error.transient
    return isinstance(error, httpx2.TransportError)


NO_RETRY = RetryPolicy(attempts=1)
