"""The in-memory metagraph and the background task that keeps it fresh.

Requests only ever read `cache.snapshot`; loading happens in a background task, so a
slow or unreachable chain never delays an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from app.errors import Unavailable
from app.metagraph.snapshot import Snapshot
from app.metagraph.sources import MetagraphSource

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
MAX_LOAD_TIMEOUT_SECONDS = 60.0


class MetagraphCache:
    def __init__(
        self,
        source: MetagraphSource,
        *,
        refresh_seconds: float,
        max_age_seconds: float,
        load_timeout_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.refresh_seconds = refresh_seconds
        self.max_age_seconds = max_age_seconds
        # Long enough for a slow node to send runtime metadata and a full metagraph, short
        # enough that a silent chain shows up as a failure in /healthcheck within a minute.
        self.load_timeout_seconds = load_timeout_seconds or max(
            30.0, min(refresh_seconds, MAX_LOAD_TIMEOUT_SECONDS)
        )
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._loaded_at: float | None = None
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None
        # Set once the first load has succeeded or failed, for callers that want to wait.
        self.first_attempt = asyncio.Event()

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def age_seconds(self) -> float | None:
        if self._loaded_at is None:
            return None
        return self._clock() - self._loaded_at

    def is_fresh(self) -> bool:
        age = self.age_seconds()
        return age is not None and age <= self.max_age_seconds

    def current(self) -> Snapshot:
        """The snapshot requests may trust, or a 503 saying why there is none."""
        snapshot = self._snapshot
        if snapshot is None:
            raise Unavailable(
                "The metagraph has not been loaded yet; try again shortly.",
                code="metagraph_unavailable",
            )
        if not self.is_fresh():
            raise Unavailable(
                "The metagraph is out of date, so registrations cannot be checked; "
                "try again shortly.",
                code="metagraph_stale",
            )
        return snapshot

    def install(self, snapshot: Snapshot) -> None:
        # One assignment: readers see the old snapshot or the new one, never a mix.
        self._snapshot = snapshot
        self._loaded_at = self._clock()
        self.last_error = None

    async def refresh(self) -> Snapshot:
        """Load once; on failure the previous snapshot stays in place and the error is raised."""
        try:
            # Not wait_for: on Python 3.11 it can swallow a cancel that lands as the load
            # finishes, and then stop() would wait on the refresher forever.
            async with asyncio.timeout(self.load_timeout_seconds):
                snapshot = await self.source.load()
        except Exception as exc:
            reason = self._describe_failure(exc)
            self.last_error = reason
            logger.warning("metagraph refresh from %s failed: %s", self.source.name, reason)
            raise
        previous, recovered = self._snapshot, self.last_error is not None
        self.install(snapshot)
        # A file re-read every few seconds would otherwise fill the log with identical lines.
        unchanged = previous == snapshot and not recovered
        logger.log(
            logging.DEBUG if unchanged else logging.INFO,
            "metagraph %s from %s: netuid %s, block %s, %d neurons",
            "unchanged" if unchanged else "loaded",
            snapshot.source,
            snapshot.netuid,
            snapshot.block,
            len(snapshot),
        )
        return snapshot

    def _describe_failure(self, exc: Exception) -> str:
        if str(exc):
            return f"{type(exc).__name__}: {exc}"
        if isinstance(exc, TimeoutError):
            # A load timeout carries no text; say what it means for operators.
            return f"TimeoutError: no answer within {self.load_timeout_seconds:g} s"
        return type(exc).__name__

    async def run(self) -> None:
        """Refresh forever: on schedule after a success, with growing backoff after a failure."""
        failures = 0
        while True:
            try:
                await self.refresh()
                failures = 0
                delay = self.refresh_seconds
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                delay = min(2.0 ** (failures - 1), MAX_BACKOFF_SECONDS, self.refresh_seconds)
            self.first_attempt.set()
            await asyncio.sleep(delay)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="metagraph-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.source.close()
