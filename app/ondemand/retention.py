"""Deletes jobs, submissions and stored answers older than ONDEMAND_RETENTION_HOURS.

Safe with several replicas: deleting an object or a row twice changes nothing, and the
answers go first, so a job whose answers could not be deleted is retried next round.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.db import Database
from app.ondemand import repository
from app.ondemand.storage import AnswerStore
from app.periodic import Periodic

PERIOD_SECONDS = 60.0
BATCH = 200
BACKGROUND_DEADLINE_SECONDS = 10.0


class Retention:
    def __init__(self, db: Database, answers: AnswerStore, *, retention: timedelta) -> None:
        self.db = db
        self.answers = answers
        self.retention = retention
        self._periodic = Periodic(self.run_once, PERIOD_SECONDS, "deleting old on-demand jobs")

    async def run_once(self, now: datetime | None = None) -> int:
        """Deletes every job that expired more than the retention ago; returns how many."""
        cutoff = (now or datetime.now(UTC)) - self.retention
        deleted = 0
        while True:
            async with self.db.session(deadline=BACKGROUND_DEADLINE_SECONDS) as session:
                batch = await repository.expired_before(session, cutoff, BATCH)
            if not batch:
                return deleted
            await self.answers.delete([key for _, keys in batch for key in keys])
            async with self.db.session(deadline=BACKGROUND_DEADLINE_SECONDS) as session:
                await repository.delete_jobs(session, [job_id for job_id, _ in batch])
            deleted += len(batch)
            if len(batch) < BATCH:
                return deleted

    def start(self) -> None:
        self._periodic.start(first_now=True)

    async def close(self) -> None:
        await self._periodic.stop()
