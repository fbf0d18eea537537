"""Storing and reading published validation scores, and how fresh the newest one is."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, outcome
from app.metagraph import Neuron
from app.periodic import Periodic
from app.results import repository
from app.results.schemas import Result

# How often the newest score's time is re-read for /metrics (scores from other replicas).
NEWEST_REFRESH_SECONDS = 15.0
# Publishers naming the same miners wait on each other's row locks; the write may take
# this long so PostgreSQL queues them instead of the app giving up (its deadlock_timeout
# is 1 s: a shorter deadline would give up before it even looked for a deadlock).
UPSERT_DEADLINE_SECONDS = 10.0
# Finding out an unknown commit comes on top of the write's deadline.
UPSERT_TOTAL_SECONDS = UPSERT_DEADLINE_SECONDS + outcome.TOTAL_SECONDS


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


class ValidationResults:
    def __init__(self, db: Database, *, refresh_seconds: float = NEWEST_REFRESH_SECONDS) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self.newest_at: datetime | None = None
        self._refresher = Periodic(self.refresh, refresh_seconds, "validation-results-newest")

    async def publish(
        self, publisher: Neuron, results: list[Result], *, now: datetime | None = None
    ) -> int:
        """Upserts each miner's score; a miner named twice keeps the later one."""
        now = now or datetime.now(UTC)
        latest = {result.miner_hotkey: result.score for result in results}
        rows = [
            {
                "miner_hotkey": miner,
                "validator_hotkey": publisher.hotkey,
                "validator_uid": publisher.uid,
                "score": score,
                "updated_at": now,
            }
            # Every publisher locks rows in the same order, so two never wait on each other.
            for miner, score in sorted(latest.items())
        ]

        async def upsert(session: AsyncSession) -> None:
            await repository.upsert(session, rows)

        async def stored(session: AsyncSession) -> bool:
            return await repository.published_at(session, publisher.hotkey, list(latest), now)

        if rows:
            await outcome.write(
                self.db,
                upsert,
                found=stored,
                deadline=UPSERT_DEADLINE_SECONDS,
                total_seconds=UPSERT_TOTAL_SECONDS,
            )
        if rows and (self.newest_at is None or now > self.newest_at):
            self.newest_at = now
        return len(rows)

    async def all(self) -> dict[str, Any]:
        async with self.db.session() as session:
            rows = await repository.all_results(session)
        return {
            "results": [
                {
                    "miner_hotkey": row.miner_hotkey,
                    "validator_hotkey": row.validator_hotkey,
                    "validator_uid": row.validator_uid,
                    "score": row.score,
                    "updated_at": _iso(row.updated_at),
                }
                for row in rows
            ]
        }

    def newest_age_seconds(self) -> float | None:
        if self.newest_at is None:
            return None
        return max(0.0, time.time() - self.newest_at.timestamp())

    async def refresh(self) -> None:
        async with self.db.session() as session:
            newest = await repository.newest_update(session)
        if newest is not None and (self.newest_at is None or newest > self.newest_at):
            self.newest_at = newest

    def start(self) -> None:
        self._refresher.start(first_now=True)

    async def close(self) -> None:
        await self._refresher.stop()
