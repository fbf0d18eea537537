"""The jobs miners may take, held in memory and refreshed from the database.

Every miner polls about every 5 s; answering each poll with a query would make the database
the bottleneck. A background task reloads the short list of open jobs every
`REFRESH_SECONDS` (a job created here is added at once), so a job created on any
replica reaches every replica's miners within a second, and a poll costs a filter over a
few pre-encoded jobs.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta

from app.db import Database, DatabaseUnavailable
from app.ondemand import repository
from app.ondemand.models import Job
from app.ondemand.schemas import MAX_SINCE_AGE
from app.ondemand.views import job_json
from app.periodic import Periodic

REFRESH_SECONDS = 0.4
# Miners are shown only jobs at least this far from expiring.
MIN_TIME_LEFT = timedelta(seconds=10)
# Jobs older than any accepted `since`, with a margin for the refresh period.
LOOKBACK = MAX_SINCE_AGE + timedelta(minutes=1)


# (created_at, expire_at) as unix seconds, and the job's JSON.
Entry = tuple[float, float, bytes]


def entry(job: Job) -> Entry:
    return (job.created_at.timestamp(), job.expire_at.timestamp(), job_json(job))


class ActiveJobs:
    def __init__(self, db: Database, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        # Newest first.
        self._entries: tuple[Entry, ...] = ()
        self._added = 0
        self._periodic = Periodic(
            self.refresh, refresh_seconds, "refreshing the active on-demand jobs"
        )

    def answer(self, since: datetime, *, now: float | None = None) -> bytes:
        """The `{"jobs": [...]}` body: created at or after `since`, 10 s or more left."""
        since_ts = since.timestamp()
        must_outlive = (time.time() if now is None else now) + MIN_TIME_LEFT.total_seconds()
        parts = [
            body
            for created, expires, body in self._entries
            if created >= since_ts and expires >= must_outlive
        ]
        return b'{"jobs":[' + b",".join(parts) + b"]}"

    def open_count(self, *, now: float | None = None) -> int:
        """Jobs not yet expired among those held (what /metrics shows as open)."""
        moment = time.time() if now is None else now
        return sum(1 for _, expires, _ in self._entries if expires > moment)

    async def refresh(self) -> None:
        while True:
            added = self._added
            now = datetime.now(UTC)
            async with self.db.session() as session:
                jobs = await repository.active_jobs(
                    session, created_since=now - LOOKBACK, expiring_after=now + MIN_TIME_LEFT
                )
            # A job added here while the query ran may be missing from its answer: ask again.
            if added == self._added:
                self._entries = tuple(entry(job) for job in jobs)
                return

    def add(self, job: Job) -> None:
        """Shows a job created here at once; other replicas see it at their next refresh."""
        self._added += 1
        entries = [*self._entries, entry(job)]
        entries.sort(key=lambda item: item[0], reverse=True)
        self._entries = tuple(entries)

    async def start(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            await self.refresh()
        self._periodic.start(first_now=False)

    async def close(self) -> None:
        await self._periodic.stop()
