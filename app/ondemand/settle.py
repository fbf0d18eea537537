"""Records what landed for each job once its upload window has closed.

Miners' forms expire with the job, so after `expire_at` (plus a grace for uploads still
in flight) an answer can no longer appear or change. One replica claims the job with a
conditional UPDATE, lists the job's folder once and stores each answer's size, ETag and
time; validators then read those facts from the database instead of asking storage.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.db import Database
from app.errors import ServiceError
from app.ondemand import repository
from app.ondemand.models import Job
from app.ondemand.storage import AnswerStore
from app.periodic import Periodic
from app.storage.layout import ondemand_job_prefix

# Uploads that started before the form expired may still be arriving.
GRACE = timedelta(seconds=10)
# A replica that died holding a claim gives it up after this long.
CLAIM_TTL = timedelta(seconds=60)
PERIOD_SECONDS = 2.0
BATCH = 20
BACKGROUND_DEADLINE_SECONDS = 10.0


class Settler:
    def __init__(self, db: Database, answers: AnswerStore, *, retention: timedelta) -> None:
        self.db = db
        self.answers = answers
        self.retention = retention
        self._periodic = Periodic(
            self.run_once, PERIOD_SECONDS, "recording landed on-demand answers"
        )
        # Of the last run that completed (unix seconds), and its lag; None before one.
        self.last_success: float | None = None
        self.last_lag_seconds: float | None = None

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
            # How long the oldest due job has waited past its window: /metrics' settle lag.
            lag = max(((now - GRACE - job.expire_at).total_seconds() for job in due), default=0.0)
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
        self.last_lag_seconds = lag
        self.last_success = time.time()
        return settled

    async def _release(self, job_id: str) -> None:
        with contextlib.suppress(ServiceError):
            async with self.db.session() as session:
                await session.execute(
                    update(Job).where(Job.id == job_id).values(settle_claimed_at=None)
                )

    def start(self) -> None:
        self._periodic.start(first_now=True)

    async def close(self) -> None:
        await self._periodic.stop()
