"""The newest Dynamic Desirability list, held in memory and refreshed from the database.

Every validator reads the list after each evaluation batch and miners every 20 minutes;
a query per read would make the database the bottleneck of a signature check. A
background task asks the database for the newest publication number every
`REFRESH_SECONDS` and loads the list only when it changed, so a list published on any
replica reaches every replica's readers within a few seconds, and a read costs nothing
but sending pre-encoded bytes.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import datetime

from app.db import Database, DatabaseUnavailable
from app.desirability import repository
from app.desirability.models import DDList
from app.periodic import Periodic

REFRESH_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    version: str
    generated_at: datetime
    entry_count: int
    body: bytes  # the whole `{"version", "generated_at", "entries"}` answer

    @classmethod
    def of(cls, row: DDList) -> Snapshot:
        answer = {
            "version": row.version,
            "generated_at": row.generated_at.isoformat().replace("+00:00", "Z"),
            "entries": row.entries,
        }
        body = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(row.seq, row.version, row.generated_at, row.entry_count, body)

    def age_seconds(self, now: float | None = None) -> float:
        return max(0.0, (time.time() if now is None else now) - self.generated_at.timestamp())


class LatestList:
    def __init__(self, db: Database, *, refresh_seconds: float = REFRESH_SECONDS) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self.current: Snapshot | None = None
        self._refresher = Periodic(self.refresh, refresh_seconds, "dd-latest-list")

    def offer(self, snapshot: Snapshot) -> None:
        """Serve `snapshot` unless a newer one is already served."""
        current = self.current
        if current is None or snapshot.seq > current.seq:
            self.current = snapshot

    async def refresh(self) -> None:
        async with self.db.session() as session:
            seq = await repository.newest_seq(session)
            current = self.current
            if seq is None or (current is not None and current.seq >= seq):
                return
            row = await repository.get(session, seq)
        if row is not None:
            self.offer(Snapshot.of(row))

    async def start(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            await self.refresh()
        self._refresher.start(first_now=False)

    async def close(self) -> None:
        await self._refresher.stop()
