"""Housekeeping in the background: a pass every REAP_INTERVAL_SECONDS, one replica at a time.

The first pass runs at start, once the metagraph has had its first chance to load (a pass
without it would skip the deregistered class), so replicas that restart more often than
the interval still reap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from botocore.client import BaseClient

from app.db import Database, DatabaseUnavailable
from app.housekeeping.bucket import S3_READ_TIMEOUT_SECONDS, Bucket
from app.housekeeping.metrics import ReapMetrics
from app.housekeeping.reaper import PassReport, PassStopped, Reaper, Tallies, graces_of
from app.housekeeping.turns import reaper_turn
from app.metagraph import MetagraphCache
from app.periodic import Periodic
from app.storage.calls import StorageCalls
from app.storage.client import make_s3_client
from config import Settings

logger = logging.getLogger(__name__)

FIRST_METAGRAPH_WAIT_SECONDS = 120.0


class Housekeeping:
    def __init__(
        self,
        settings: Settings,
        storage: StorageCalls,
        db: Database,
        metagraph: MetagraphCache,
    ) -> None:
        self.settings = settings
        self.interval = settings.reap_interval_seconds
        self.storage = storage
        self.db = db
        self.metagraph = metagraph
        self.metrics: ReapMetrics | None = None
        # Made at the first pass: its own S3 client, whose read timeout allows slow
        # deletions (the request path's client gives up after a few seconds).
        self.reaper: Reaper | None = None
        self._s3: BaseClient | None = None
        self._periodic = Periodic(self.run_once, self.interval, "storage housekeeping")
        self._first = True

    def attach_metrics(self, metrics: ReapMetrics) -> None:
        self.metrics = metrics
        metrics.interval.set(self.interval)

    def _reaper(self) -> Reaper:
        if self.reaper is None:
            self._s3 = make_s3_client(self.settings, read_timeout=S3_READ_TIMEOUT_SECONDS)
            bucket = Bucket(self._s3, self.settings.s3_bucket, self.storage)
            self.reaper = Reaper(bucket, self.db, self.metagraph, graces_of(self.settings))
            self.reaper.metrics = self.metrics
        return self.reaper

    def start(self) -> None:
        if self.interval > 0:
            self._periodic.start(first_now=True)

    async def run_once(self) -> PassReport | None:
        """One pass if this process gets the turn; None when another one has it."""
        if self._first:
            self._first = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.metagraph.first_attempt.wait(), FIRST_METAGRAPH_WAIT_SECONDS
                )
        try:
            async with reaper_turn(self.db) as turn:
                if not turn:
                    logger.info("storage housekeeping: another replica has this pass")
                    return None
                return await self._reaper().run()
        except DatabaseUnavailable as exc:
            self._reaper().tallies.last_error = exc.detail
            raise
        except PassStopped:
            return None

    async def close(self) -> None:
        if self.reaper is not None:
            self.reaper.stopping = True
        await self._periodic.stop()
        if self._s3 is not None:
            self._s3.close()

    def state(self) -> dict[str, Any]:
        """The `housekeeping` entry of /healthcheck: this process's last pass."""
        tallies = self.reaper.tallies if self.reaper is not None else Tallies()
        report = tallies.last_report
        return {
            "interval_seconds": self.interval,
            "last_pass_at": _iso(tallies.last_finished),
            "last_success_at": _iso(tallies.last_success),
            "last_error": tallies.last_error,
            "last_pass": None if report is None else report.to_json(),
        }


def _iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
