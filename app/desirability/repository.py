"""The queries behind Dynamic Desirability lists; each takes the session of one unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.desirability.models import DDList

# Publishers on several replicas take turns ("s3dd" in ASCII); any constant they share.
PUBLISH_LOCK_KEY = 0x73336464


def version_of(seq: int, generated_at: datetime) -> str:
    """`2026-11-25T15:30:00Z-000042`: sorts as text in publication order.

    `generated_at` never goes back from one publication to the next (see `publish`), and
    the fixed-width publication number orders lists made within the same second.
    """
    return f"{generated_at:%Y-%m-%dT%H:%M:%SZ}-{seq:06d}"


async def newest_seq(session: AsyncSession) -> int | None:
    return await session.scalar(select(DDList.seq).order_by(DDList.seq.desc()).limit(1))


async def get(session: AsyncSession, seq: int) -> DDList | None:
    return await session.get(DDList, seq)


async def publish(session: AsyncSession, entries: list[dict[str, Any]], now: datetime) -> DDList:
    """Stores `entries` as the next version; earlier versions stay."""
    if session.bind.dialect.name == "postgresql":
        # Released at commit; SQLite already admits one writer at a time.
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PUBLISH_LOCK_KEY})
    previous = await session.scalar(select(DDList).order_by(DDList.seq.desc()).limit(1))
    seq = 1 if previous is None else previous.seq + 1
    # A replica whose clock lags must not publish a version that sorts before the last one.
    generated_at = now if previous is None else max(now, previous.generated_at)
    row = DDList(
        seq=seq,
        version=version_of(seq, generated_at),
        generated_at=generated_at,
        entries=entries,
        entry_count=len(entries),
    )
    session.add(row)
    await session.flush()
    return row
