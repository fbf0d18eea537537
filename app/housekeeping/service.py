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
from app.housekeeping.bucket import Bucket
from app.housekeeping.metrics import ReapMetrics
from app.housekeeping.reaper import PassReport, PassStopped, Reaper, graces_of
from app.housekeeping.turns import reaper_turn
from app.metagraph import MetagraphCache
from app.periodic import Periodic
from app.storage.calls import StorageCalls
from config import Settings

logger = logging.getLogger(__name__)

FIRST_METAGRAPH_WAIT_SECONDS = 120.0


class Housekeeping:
    def __init__(
        self,
        settings: Settings,
        s3: BaseClient,
        storage: StorageCalls,
        db: Database,
        metagraph: MetagraphCache,
    ) -> None:
        self.interval = settings.reap_interval_seconds
        self.db = db
        self.metagraph = metagraph
        bucket = Bucket(s3, settings.s3_bucket, storage)
        self.reaper = Reaper(bucket, db, metagraph, graces_of(settings))
        self._periodic = Periodic(self.run_once, self.interval, "storage housekeeping")
        self._first = True

    def attach_metrics(self, metrics: ReapMetrics) -> None:
        self.reaper.metrics = metrics
        metrics.interval.set(self.interval)

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
                return await self.reaper.run()
        except DatabaseUnavailable as exc:
            self.reaper.tallies.last_error = exc.detail
            raise
        except PassStopped:
            return None

    async def close(self) -> None:
        self.reaper.stopping = True
        await self._periodic.stop()

    def state(self) -> dict[str, Any]:
        """The `housekeeping` entry of /healthcheck: this process's last pass."""
        tallies = self.reaper.tallies
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
