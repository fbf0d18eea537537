"""Publishing Dynamic Desirability lists and serving the newest one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from app.db import Database
from app.desirability import repository
from app.desirability.latest import LatestList, Snapshot
from app.desirability.schemas import Entry
from app.errors import Conflict, NotFound


class Desirability:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.latest = LatestList(db)

    async def start(self) -> None:
        await self.latest.start()

    async def close(self) -> None:
        await self.latest.close()

    async def publish(self, entries: list[Entry], *, now: datetime | None = None) -> Snapshot:
        """Stores a validated list as the next version; this replica serves it at once."""
        rows = [entry.model_dump(mode="json") for entry in entries]
        try:
            async with self.db.session() as session:
                row = await repository.publish(session, rows, now or datetime.now(UTC))
        except IntegrityError:
            raise Conflict(
                "Another list was published at the same moment; publish again.",
                code="publish_conflict",
            ) from None
        snapshot = Snapshot.of(row)
        self.latest.offer(snapshot)
        return snapshot

    def newest(self) -> Snapshot:
        snapshot = self.latest.current
        if snapshot is None:
            raise NotFound("No Dynamic Desirability list has been published yet.", code="no_list")
        return snapshot
