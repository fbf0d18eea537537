"""A write whose COMMIT outcome is unknown in time is found out before it is answered.

PostgreSQL runs behind a TCP proxy that holds one connection's traffic right after the
write's statements, so COMMIT's reply (or COMMIT itself) is late past its bound.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, DatabaseUnavailable, outcome
from app.ondemand.models import Job
from tests.database import empty_postgres_tables
from tests.tcp_proxy import TcpProxy

COMMIT_SECONDS = 0.5
RELEASE_AFTER = 1.5


def a_job() -> Job:
    now = datetime.now(UTC)
    return Job(
        id=str(uuid.uuid4()),
        platform="x",
        payload={"platform": "x", "keywords": ["a"]},
        start_date=None,
        end_date=None,
        limit=10,
        keyword_mode="any",
        created_at=now,
        expire_at=now + timedelta(minutes=2),
    )


async def jobs_in(url: str) -> int:
    db = Database(url)
    try:
        async with db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Job)) or 0)
    finally:
        await db.close()


async def held_write(url: str, *, requests: bool) -> tuple[Callable[[], Awaitable[str]], Database]:
    parts = urlsplit(url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    db = Database(url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{proxy.port}"))
    job = a_job()

    async def work(session: AsyncSession) -> str:
        session.add(job)
        await session.flush()
        # From here the connection's traffic stops: COMMIT's reply (or COMMIT) is late.
        assert proxy.hold(replies=True, requests=requests) >= 1
        asyncio.get_running_loop().call_later(RELEASE_AFTER, proxy.release)
        return job.id

    async def stored(session: AsyncSession) -> bool:
        return await session.get(Job, job.id) is not None

    async def run() -> str:
        try:
            return await outcome.write(db, work, found=stored, commit_seconds=COMMIT_SECONDS)
        finally:
            await proxy.stop()

    return run, db


@pytest.mark.parametrize("attempt", range(3))
def test_a_commit_whose_reply_is_late_is_found_stored_and_answered(
    postgres_database: str, attempt: int
) -> None:
    empty_postgres_tables(postgres_database)

    async def scenario() -> tuple[str, int]:
        run, db = await held_write(postgres_database, requests=False)
        try:
            job_id = await run()
            return job_id, await jobs_in(postgres_database)
        finally:
            await db.close()

    job_id, stored = asyncio.run(scenario())
    assert job_id and stored == 1


@pytest.mark.parametrize("attempt", range(3))
def test_a_commit_that_never_reached_the_database_is_503_and_nothing_is_stored(
    postgres_database: str, attempt: int
) -> None:
    empty_postgres_tables(postgres_database)

    async def scenario() -> tuple[bool, int]:
        run, db = await held_write(postgres_database, requests=True)
        try:
            try:
                await run()
                refused = False
            except DatabaseUnavailable:
                refused = True
            # The held COMMIT reaches a backend that was ended: it never commits.
            await asyncio.sleep(RELEASE_AFTER)
            return refused, await jobs_in(postgres_database)
        finally:
            await db.close()

    refused, stored = asyncio.run(scenario())
    assert (refused, stored) == (True, 0)
