"""The queries behind on-demand jobs; each takes the session of one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Text,
    and_,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.ondemand.models import Job, Submission
from app.ondemand.schemas import PLATFORMS


async def add_job(session: AsyncSession, job: Job) -> None:
    session.add(job)
    await session.flush()


async def open_jobs_of(
    session: AsyncSession, customer: str, now: datetime
) -> tuple[int, datetime | None]:
    """How many of the customer's jobs are not yet expired, and when the first expires.

    On PostgreSQL the customer's creations take turns (a lock until the transaction
    ends), so two at once cannot both pass the cap.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(int(customer[:15], 16))))
    query = select(func.count(), func.min(Job.expire_at)).where(
        Job.customer == customer, Job.expire_at > now
    )
    count, first = (await session.execute(query)).one()
    return int(count), first


async def get_job(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)


async def add_submission(session: AsyncSession, submission: Submission) -> None:
    """Stores a submission; Conflict when the miner already has one for the job."""
    session.add(submission)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(
            "This miner has already submitted an answer to this job.", code="already_submitted"
        ) from None


async def has_submission(session: AsyncSession, job_id: str, miner_hotkey: str) -> bool:
    query = select(Submission.id).where(
        Submission.job_id == job_id, Submission.miner_hotkey == miner_hotkey
    )
    return (await session.scalar(query)) is not None


async def active_jobs(
    session: AsyncSession, *, created_since: datetime, expiring_after: datetime
) -> Sequence[Job]:
    """Jobs miners may still be shown, newest first: only platforms miners can parse."""
    query = (
        select(Job)
        .where(
            Job.created_at >= created_since,
            Job.expire_at >= expiring_after,
            Job.platform.in_(PLATFORMS),
        )
        .order_by(Job.created_at.desc())
    )
    return (await session.scalars(query)).all()


async def submissions_of(session: AsyncSession, job_id: str) -> Sequence[Submission]:
    query = (
        select(Submission)
        .where(Submission.job_id == job_id)
        .order_by(Submission.submitted_at, Submission.id)
    )
    return (await session.scalars(query)).all()


# A miner's window can hold a thousand rows: read them as plain rows (no ORM objects), in
# the order `views.job_fragment` and `views.submission_fragment` unpack them. The payload
# stays JSON text: it goes into the answer as it is, never decoded and encoded again.
JOB_COLUMNS = (
    Job.id,
    Job.created_at,
    Job.expire_at,
    cast(Job.payload, Text).label("payload"),
    Job.start_date,
    Job.end_date,
    Job.limit.label("limit"),
    Job.keyword_mode,
)
SUBMISSION_COLUMNS = (
    Submission.job_id,
    Submission.miner_hotkey,
    Submission.miner_incentive,
    Submission.submitted_at,
    Submission.s3_path,
    Submission.s3_content_length,
    Submission.s3_etag,
    Submission.s3_last_modified,
)


async def miner_jobs(
    session: AsyncSession, miner_hotkey: str, since: datetime, until: datetime, limit: int
) -> Sequence[Row[Any]]:
    """One row per submission of the miner to a job that expired in the window."""
    query = (
        select(*JOB_COLUMNS, *SUBMISSION_COLUMNS)
        .join(Job, Job.id == Submission.job_id)
        .where(
            Submission.miner_hotkey == miner_hotkey,
            Submission.job_expire_at >= since,
            Submission.job_expire_at <= until,
        )
        .order_by(Submission.job_expire_at.desc())
        .limit(limit)
    )
    return (await session.execute(query)).all()


async def job_stats(
    session: AsyncSession, since: datetime, until: datetime, min_submitters: int
) -> dict[str, tuple[int, int]]:
    """Per platform: jobs that expired in the window, and those with enough landed answers."""
    landed = (
        select(Submission.job_id, func.count().label("answers"))
        .where(Submission.s3_content_length > 0)
        .group_by(Submission.job_id)
        .subquery()
    )
    doable = func.count(landed.c.job_id).filter(landed.c.answers >= min_submitters)
    query = (
        select(Job.platform, func.count(Job.id), doable)
        .outerjoin(landed, landed.c.job_id == Job.id)
        .where(Job.expire_at >= since, Job.expire_at <= until)
        .group_by(Job.platform)
    )
    return {platform: (total, done) for platform, total, done in await session.execute(query)}


async def jobs_with_submissions(
    session: AsyncSession, since: datetime, until: datetime, limit: int
) -> list[tuple[Job, Sequence[Submission]]]:
    has_submission = select(Submission.id).where(Submission.job_id == Job.id).exists()
    jobs = (
        await session.scalars(
            select(Job)
            .where(Job.expire_at >= since, Job.expire_at <= until, has_submission)
            .order_by(Job.expire_at.desc())
            .limit(limit)
        )
    ).all()
    if not jobs:
        return []
    rows = (
        await session.scalars(
            select(Submission)
            .where(Submission.job_id.in_([job.id for job in jobs]))
            .order_by(Submission.submitted_at, Submission.id)
        )
    ).all()
    by_job: dict[str, list[Submission]] = {job.id: [] for job in jobs}
    for row in rows:
        by_job[row.job_id].append(row)
    return [(job, by_job[job.id]) for job in jobs]


# --- settling: what landed, recorded once after the upload window closed ------------


def _claimable(claim_expired_before: datetime) -> ColumnElement[bool]:
    return and_(
        Job.settled_at.is_(None),
        or_(Job.settle_claimed_at.is_(None), Job.settle_claimed_at < claim_expired_before),
    )


async def jobs_to_settle(
    session: AsyncSession,
    *,
    closed_before: datetime,
    kept_after: datetime,
    claim_expired_before: datetime,
    limit: int,
) -> Sequence[Job]:
    query = (
        select(Job)
        .where(
            Job.expire_at <= closed_before,
            Job.expire_at > kept_after,
            _claimable(claim_expired_before),
        )
        .order_by(Job.expire_at)
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def claim_settlement(
    session: AsyncSession, job_id: str, now: datetime, claim_expired_before: datetime
) -> bool:
    """Takes the job for this replica; False when another replica holds or finished it."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, _claimable(claim_expired_before))
        .values(settle_claimed_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def record_landed(
    session: AsyncSession,
    job_id: str,
    landed: dict[str, tuple[int, str | None, datetime | None]],
    now: datetime,
) -> None:
    """Records size, ETag and time of each landed answer (by key) and marks the job settled."""
    for submission in await submissions_of(session, job_id):
        found = landed.get(submission.s3_path)
        if found is not None and found[0] > 0:
            size, etag, modified = found
            submission.s3_content_length = size
            submission.s3_etag = etag
            submission.s3_last_modified = modified
    await session.execute(update(Job).where(Job.id == job_id).values(settled_at=now))


# --- retention ----------------------------------------------------------------------


async def expired_before(
    session: AsyncSession, cutoff: datetime, limit: int
) -> list[tuple[str, list[str]]]:
    """Up to `limit` jobs that expired before `cutoff`, each with its answers' keys."""
    ids = (
        await session.scalars(
            select(Job.id).where(Job.expire_at < cutoff).order_by(Job.expire_at).limit(limit)
        )
    ).all()
    if not ids:
        return []
    keys: dict[str, list[str]] = {job_id: [] for job_id in ids}
    rows = await session.execute(
        select(Submission.job_id, Submission.s3_path).where(Submission.job_id.in_(ids))
    )
    for job_id, path in rows:
        keys[job_id].append(path)
    return list(keys.items())


async def delete_jobs(session: AsyncSession, job_ids: Sequence[str]) -> None:
    await session.execute(delete(Submission).where(Submission.job_id.in_(job_ids)))
    await session.execute(delete(Job).where(Job.id.in_(job_ids)))
