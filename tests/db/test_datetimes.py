"""Datetimes come back from either backend timezone-aware, in UTC, as they went in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from app.db import Database
from app.ondemand.models import Job


def job(created_at: datetime) -> Job:
    return Job(
        id="00000000-0000-4000-8000-000000000001",
        platform="x",
        payload={"platform": "x", "keywords": ["tao"]},
        start_date=None,
        end_date=None,
        limit=100,
        keyword_mode="any",
        created_at=created_at,
        expire_at=created_at + timedelta(minutes=2),
    )


async def store_and_read(url: str, created_at: datetime) -> Job:
    db = Database(url)
    try:
        async with db.session() as session:
            session.add(job(created_at))
        async with db.session() as session:
            return (await session.execute(select(Job))).scalar_one()
    finally:
        await db.close()


def test_datetimes_read_back_aware_in_utc(database_url: str) -> None:
    plus_two = timezone(timedelta(hours=2))
    written = datetime(2026, 8, 5, 14, 0, 0, 123456, tzinfo=plus_two)
    stored = asyncio.run(store_and_read(database_url, written))
    assert stored.created_at == written
    assert stored.created_at.tzinfo is UTC
    assert stored.created_at.hour == 12
    assert stored.expire_at.utcoffset() == timedelta(0)


def test_naive_datetime_is_refused_before_it_is_stored(database_url: str) -> None:
    with pytest.raises(StatementError, match="timezone-aware"):
        asyncio.run(store_and_read(database_url, datetime(2026, 8, 5, 12, 0)))
