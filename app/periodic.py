"""A background refresh that stops between runs, never in the middle of one.

Cancelling a task inside a database call leaves the driver's worker (aiosqlite's thread,
an asyncpg protocol) answering a loop that may be closed by then. Stopping sets an event
the loop waits on; a run in progress (bounded by the database deadline) finishes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from app.db import DatabaseUnavailable
from app.errors import ServiceError

logger = logging.getLogger(__name__)

# Longer than a run may take (the database layer gives up after about a second, storage
# calls after five).
STOP_GRACE_SECONDS = 5.0
# An outage fails every run; one line per interval says why without flooding the log.
LOG_INTERVAL_SECONDS = 60.0


class Periodic:
    def __init__(self, run: Callable[[], Awaitable[None]], seconds: float, name: str) -> None:
        self.run = run
        self.seconds = seconds
        self.name = name
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._next_log = 0.0

    def start(self, *, first_now: bool) -> None:
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._loop(first_now), name=self.name)

    async def _loop(self, first_now: bool) -> None:
        assert self._stop is not None
        if not first_now and await self._stopped_within(self.seconds):
            return
        while True:
            try:
                await self.run()
            except DatabaseUnavailable:
                pass  # logged by the database layer; what is in memory keeps serving
            except ServiceError as exc:
                if time.monotonic() >= self._next_log:
                    self._next_log = time.monotonic() + LOG_INTERVAL_SECONDS
                    logger.warning("%s: %s", self.name, exc.detail)
            except Exception:
                logger.exception("%s failed", self.name)
            if await self._stopped_within(self.seconds):
                return

    async def _stopped_within(self, seconds: float) -> bool:
        assert self._stop is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None or self._stop is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
