"""On-demand jobs: what customers, miners and validators can do, and the background work."""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.client import BaseClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, outcome
from app.errors import BadRequest, Conflict, InvalidRequest, NotFound, RateLimited
from app.ondemand import repository
from app.ondemand.active import ActiveJobs
from app.ondemand.models import Job, Submission
from app.ondemand.retention import Retention
from app.ondemand.schemas import JobSpec, JobsRequest, JobStatsRequest, MinerJobsRequest
from app.ondemand.settle import Settler
from app.ondemand.storage import AnswerStore, Landed
from app.ondemand.views import JobFragments, job_view, submission_fragment, submission_view
from app.storage.calls import StorageCalls
from app.storage.layout import ondemand_answer_key, ondemand_job_prefix
from app.storage.presign import Presigner, UploadForm
from config import Settings

JOB_ID = re.compile(r"[0-9a-fA-F-]{1,64}")
MIN_LIFETIME = timedelta(seconds=30)
# Miners need time to scrape and upload; a submission this close to expiry is refused.
SUBMIT_CUTOFF = timedelta(seconds=5)
ANSWER_URL_SECONDS = 3600
# A customer reading an open job waits on one small listing at most this long.
STORAGE_READ_SECONDS = 1.5
ANSWER_CONTENT_TYPE = "application/json"
PLATFORM_KEYS = ("x", "reddit")


class OnDemand:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        s3: BaseClient,
        presigner: Presigner,
        storage: StorageCalls,
    ) -> None:
        self.settings = settings
        self.db = db
        self.presigner = presigner
        self.retention = timedelta(hours=settings.ondemand_retention_hours)
        self.answers = AnswerStore(s3, settings.s3_bucket, storage)
        self.active = ActiveJobs(db)
        self.job_fragments = JobFragments()
        self.settler = Settler(db, self.answers, retention=self.retention)
        self.cleaner = Retention(db, self.answers, retention=self.retention)

    async def start(self) -> None:
        await self.active.start()
        self.settler.start()
        self.cleaner.start()

    async def close(self) -> None:
        await self.active.close()
        await self.settler.close()
        await self.cleaner.close()

    # --- customers --------------------------------------------------------------------

    async def create_job(
        self, spec: JobSpec, *, customer: str | None = None, now: datetime | None = None
    ) -> Job:
        now = now or datetime.now(UTC)
        expire_at = spec.expire_at or now + timedelta(seconds=self.settings.ondemand_job_seconds)
        if expire_at < now + MIN_LIFETIME:
            raise InvalidRequest(
                "job.expire_at must be at least 30 s from now.", code="expire_at_too_soon"
            )
        if expire_at > now + self.retention:
            raise InvalidRequest(
                "job.expire_at must be within ONDEMAND_RETENTION_HOURS from now.",
                code="expire_at_too_late",
            )
        job = Job(
            id=str(uuid.uuid4()),
            platform=spec.job.platform,
            payload=spec.job.model_dump(mode="json"),
            start_date=spec.start_date,
            end_date=spec.end_date,
            limit=spec.limit,
            keyword_mode=spec.keyword_mode,
            created_at=now,
            expire_at=expire_at,
            customer=customer,
        )
        cap = self.settings.ondemand_max_open_jobs_per_key

        async def add(session: AsyncSession) -> None:
            if customer is not None:
                count, first_expiry = await repository.open_jobs_of(session, customer, now)
                if count >= cap:
                    raise too_many_open_jobs(cap, first_expiry, now)
            await repository.add_job(session, job)

        async def stored(session: AsyncSession) -> bool:
            return await repository.get_job(session, job.id) is not None

        await outcome.write(self.db, add, found=stored)
        self.active.add(job)
        return job

    async def customer_view(self, job_id: str) -> dict[str, Any]:
        """A job's submissions; before it settles, what has landed so far is looked up."""
        async with self.db.session() as session:
            job = await self._job(session, job_id)
            submissions = await repository.submissions_of(session, job_id)
        if job.settled_at is None and submissions:
            landed = await self.answers.landed(
                ondemand_job_prefix(job.id, job.created_at), deadline=STORAGE_READ_SECONDS
            )
            for submission in submissions:
                apply_landed(submission, landed)
        return {"submissions": self._submission_views(submissions)}

    # --- miners -----------------------------------------------------------------------

    async def submit(
        self, job_id: str, miner_hotkey: str, incentive: float, *, now: datetime | None = None
    ) -> UploadForm:
        now = now or datetime.now(UTC)
        async with self.db.session() as session:
            job = await self._job(session, job_id)
        if now > job.expire_at - SUBMIT_CUTOFF:
            raise BadRequest("The job's upload window has closed.", code="job_expired")
        key = ondemand_answer_key(job.id, job.created_at, miner_hotkey)
        submission = Submission(
            job_id=job.id,
            job_expire_at=job.expire_at,
            miner_hotkey=miner_hotkey,
            miner_incentive=incentive,
            submitted_at=now,
            s3_path=key,
        )

        async def add(session: AsyncSession) -> None:
            await repository.add_submission(session, submission)

        async def stored(session: AsyncSession) -> bool:
            return await repository.has_submission(session, job.id, miner_hotkey)

        try:
            await outcome.write(self.db, add, found=stored)
        except Conflict:
            # A miner whose first answer was lost in transit (a 503, a dropped reply) asks
            # again: until its answer is in storage it gets the same key's form again.
            if await self.answers.exists(key, deadline=STORAGE_READ_SECONDS):
                raise
        return self.presigner.key_upload_form(
            key,
            min_bytes=1,
            max_bytes=self.settings.ondemand_max_bytes,
            # The form dies with the job, so nothing can land after it closed.
            expires_in=max(1, int(job.expire_at.timestamp() - time.time())),
            content_type=ANSWER_CONTENT_TYPE,
        )

    # --- validators -------------------------------------------------------------------

    def _window(self, since: datetime, until: datetime) -> tuple[datetime, datetime]:
        """Windows reaching past retention are clamped, never refused."""
        return max(since, datetime.now(UTC) - self.retention), until

    async def miner_jobs(self, request: MinerJobsRequest) -> bytes:
        """The `{"jobs": [{"job", "submission"}]}` answer, as JSON bytes (up to ~1 MB)."""
        since, until = self._window(request.expired_since, request.expired_until)
        async with self.db.session() as session:
            rows = await repository.miner_jobs(
                session, request.miner_hotkey, since, until, request.limit
            )
        urls = self._answer_urls(rows)
        jobs = self.job_fragments.get
        entries = [
            b'{"job":' + jobs(row) + b',"submission":' + submission_fragment(row, url) + b"}"
            for row, url in zip(rows, urls, strict=True)
        ]
        return b'{"jobs":[' + b",".join(entries) + b"]}"

    async def stats(self, request: JobStatsRequest) -> dict[str, Any]:
        since, until = self._window(request.expired_since, request.expired_until)
        async with self.db.session() as session:
            counts = await repository.job_stats(session, since, until, request.min_submitters)
        platforms = {name: {"total_jobs": 0, "doable_jobs": 0} for name in PLATFORM_KEYS}
        for platform, (total, doable) in counts.items():
            platforms[platform] = {"total_jobs": total, "doable_jobs": doable}
        return {"platforms": platforms}

    async def jobs(self, request: JobsRequest) -> dict[str, Any]:
        since, until = self._window(request.expired_since, request.expired_until)
        async with self.db.session() as session:
            rows = await repository.jobs_with_submissions(session, since, until, request.limit)
        return {
            "jobs_with_submissions": [
                {"job": job_view(job), "submissions": self._submission_views(submissions)}
                for job, submissions in rows
            ]
        }

    # --- helpers ----------------------------------------------------------------------

    @staticmethod
    async def _job(session: AsyncSession, job_id: str) -> Job:
        # Ids are server-made UUIDs; anything else cannot exist (and never reaches the query).
        job = await repository.get_job(session, job_id) if JOB_ID.fullmatch(job_id) else None
        if job is None:
            raise NotFound("No on-demand job has this id.", code="job_not_found")
        return job

    def _answer_urls(self, submissions: Sequence[Any]) -> list[str | None]:
        """A GET URL exactly for the answers that landed."""
        landed = [s for s in submissions if (s.s3_content_length or 0) > 0]
        urls = iter(
            self.presigner.get_urls([s.s3_path for s in landed], expires_in=ANSWER_URL_SECONDS)
            if landed
            else []
        )
        return [next(urls) if (s.s3_content_length or 0) > 0 else None for s in submissions]

    def _submission_views(self, submissions: Sequence[Submission]) -> list[dict[str, Any]]:
        listed = list(submissions)
        return [
            submission_view(submission, url)
            for submission, url in zip(listed, self._answer_urls(listed), strict=True)
        ]


def too_many_open_jobs(cap: int, first_expiry: datetime | None, now: datetime) -> RateLimited:
    wait = 1 if first_expiry is None else max(1, math.ceil((first_expiry - now).total_seconds()))
    return RateLimited(
        f"This key has {cap} open jobs (ONDEMAND_MAX_OPEN_JOBS_PER_KEY); "
        "one more can be created when one expires.",
        code="too_many_open_jobs",
        headers={"Retry-After": str(wait)},
        retry_after=wait,
    )


def apply_landed(submission: Submission, landed: Landed) -> None:
    """Shows, without storing, what storage holds for an answer right now."""
    found = landed.get(submission.s3_path)
    if found is not None and found[0] > 0:
        submission.s3_content_length, submission.s3_etag, submission.s3_last_modified = found
