"""Records what landed for each job once its upload window has closed.

Miners' forms expire with the job, so after `expire_at` (plus a grace for uploads still
in flight) an answer can no longer appear or change. One replica claims the job with a
conditional UPDATE, lists the job's folder once and stores each answer's size, ETag and
time; validators then read those facts from the database instead of asking storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.db import Database
from app.errors import ServiceError
from app.ondemand import repository
from app.ondemand.models import Job
from app.ondemand.storage import AnswerStore
from app.storage.layout import ondemand_job_prefix

logger = logging.getLogger(__name__)

# Uploads that started before the form expired may still be arriving.
GRACE = timedelta(seconds=10)
# A replica that died holding a claim gives it up after this long.
CLAIM_TTL = timedelta(seconds=60)
PERIOD_SECONDS = 2.0
BATCH = 20
BACKGROUND_DEADLINE_SECONDS = 10.0
LOG_INTERVAL_SECONDS = 60.0


class Settler:
    def __init__(self, db: Database, answers: AnswerStore, *, retention: timedelta) -> None:
        self.db = db
        self.answers = answers
        self.retention = retention
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: datetime | None = None) -> int:
        """Settles the jobs that are due; returns how many this replica settled."""
        now = now or datetime.now(UTC)
        claim_expired_before = now - CLAIM_TTL
        async with self.db.session(deadline=BACKGROUND_DEADLINE_SECONDS) as session:
            due = await repository.jobs_to_settle(
                session,
                closed_before=now - GRACE,
                kept_after=now - self.retention,
                claim_expired_before=claim_expired_before,
                limit=BATCH,
            )
            due_jobs = [(job.id, job.created_at) for job in due]
        settled = 0
        for job_id, created_at in due_jobs:
            async with self.db.session(deadline=BACKGROUND_DEADLINE_SECONDS) as session:
                claimed = await repository.claim_settlement(
                    session, job_id, now, claim_expired_before
                )
                has_answers = bool(await repository.submissions_of(session, job_id))
            if not claimed:
                continue
            try:
                landed = (
                    await self.answers.landed(ondemand_job_prefix(job_id, created_at))
                    if has_answers
                    else {}
                )
                async with self.db.session(deadline=BACKGROUND_DEADLINE_SECONDS) as session:
                    await repository.record_landed(session, job_id, landed, now)
                settled += 1
            except ServiceError:
                await self._release(job_id)
                raise
        return settled

    async def _release(self, job_id: str) -> None:
        with contextlib.suppress(ServiceError):
            async with self.db.session() as session:
                await session.execute(
                    update(Job).where(Job.id == job_id).values(settle_claimed_at=None)
                )

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ondemand-settle")

    async def _run(self) -> None:
        next_log = 0.0
        while True:
            try:
                await self.run_once()
            except ServiceError as exc:
                # An outage fails every round; one line per interval says why.
                if time.monotonic() >= next_log:
                    next_log = time.monotonic() + LOG_INTERVAL_SECONDS
                    logger.warning("recording landed on-demand answers: %s", exc.detail)
            except Exception:
                logger.exception("recording landed on-demand answers failed")
            await asyncio.sleep(PERIOD_SECONDS)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
