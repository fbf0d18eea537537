"""The jobs miners may take, held in memory and kept fresh from the database cheaply.

Every miner polls about every 5 s, so a poll never queries: it slices an answer built
once per change. Every `REFRESH_SECONDS` a replica reads only the jobs created in the
last `OVERLAP` (a job created on another replica reaches this one's miners within a
second; the overlap covers a commit that landed after its `created_at`, up to the bound
on finding out a commit's outcome, and clocks a little apart). Expired jobs leave by
time alone: `expire_at` never changes. A full re-read every `RELOAD_SECONDS` catches
anything else (a row written by hand, a replica that was cut off longer than the overlap).
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.db import Database, DatabaseUnavailable
from app.ondemand import repository
from app.ondemand.models import Job
from app.ondemand.schemas import MAX_SINCE_AGE
from app.ondemand.views import job_json
from app.periodic import Periodic

REFRESH_SECONDS = 0.4
RELOAD_SECONDS = 60.0
OVERLAP = timedelta(seconds=15)
# Miners are shown only jobs at least this far from expiring.
MIN_TIME_LEFT = timedelta(seconds=10)
# Jobs older than any accepted `since`, with a margin for the refresh period.
LOOKBACK = MAX_SINCE_AGE + timedelta(minutes=1)
# Answers smaller than this are sent as they are: gzip would save next to nothing.
GZIP_FROM_BYTES = 1024
# Distinct answers (one per number of jobs shown) kept per change.
CACHED_ANSWERS = 64
EMPTY = b'{"jobs":[]}'


@dataclass(frozen=True, slots=True)
class Entry:
    created: float
    expires: float
    body: bytes


def entry(job: Job) -> Entry:
    return Entry(job.created_at.timestamp(), job.expire_at.timestamp(), job_json(job))


@dataclass
class View:
    """The jobs shown until `valid_until`, newest first, and the answers built from them."""

    valid_until: float
    # -created of each job, ascending (newest first), for bisecting on `since`.
    keys: list[float]
    joined: bytes
    # Where the first k jobs end in `joined`.
    ends: list[int]
    plain: dict[int, bytes] = field(default_factory=dict)
    zipped: dict[int, bytes] = field(default_factory=dict)

    def count_since(self, since: float) -> int:
        return bisect.bisect_right(self.keys, -since)

    def answer(self, shown: int, *, gzipped: bool) -> bytes:
        cache = self.zipped if gzipped else self.plain
        body = cache.get(shown)
        if body is None:
            body = b'{"jobs":[' + self.joined[: self.ends[shown]] + b"]}"
            if gzipped:
                body = gzip.compress(body, compresslevel=5, mtime=0)
            if len(cache) >= CACHED_ANSWERS:
                cache.clear()
            cache[shown] = body
        return body


def build_view(entries: Sequence[Entry], now: float) -> View:
    edge = now + MIN_TIME_LEFT.total_seconds()
    shown = sorted((e for e in entries if e.expires >= edge), key=lambda e: -e.created)
    ends = [0]
    for index, item in enumerate(shown):
        ends.append(ends[-1] + len(item.body) + (1 if index else 0))
    return View(
        # The view changes when its first job stops being shown.
        valid_until=min((e.expires for e in shown), default=float("inf"))
        - MIN_TIME_LEFT.total_seconds(),
        keys=[-e.created for e in shown],
        joined=b",".join(e.body for e in shown),
        ends=ends,
    )


class ActiveJobs:
    def __init__(
        self,
        db: Database,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        reload_seconds: float = RELOAD_SECONDS,
    ) -> None:
        self.db = db
        self.refresh_seconds = refresh_seconds
        self.reload_seconds = reload_seconds
        self._entries: dict[str, Entry] = {}
        self._view: View | None = None
        self._next_reload = 0.0
        self._periodic = Periodic(
            self.refresh, refresh_seconds, "refreshing the active on-demand jobs"
        )

    def open_count(self, *, now: float | None = None) -> int:
        """Jobs not yet expired among those held (what /metrics shows as open)."""
        moment = time.time() if now is None else now
        return sum(1 for item in self._entries.values() if item.expires > moment)

    def answer(self, since: datetime, *, now: float | None = None) -> bytes:
        """The `{"jobs": [...]}` body: created at or after `since`, 10 s or more left."""
        return self.encoded(since, now=now)[0]

    def encoded(
        self, since: datetime, *, gzip_ok: bool = False, now: float | None = None
    ) -> tuple[bytes, bool]:
        """The answer, gzip-compressed when the client takes it and it is worth it."""
        now = time.time() if now is None else now
        view = self._view
        if view is None or now >= view.valid_until:
            view = self._view = build_view(tuple(self._entries.values()), now)
        shown = view.count_since(since.timestamp())
        if shown == 0:
            return EMPTY, False
        zipped = gzip_ok and view.ends[shown] >= GZIP_FROM_BYTES
        return view.answer(shown, gzipped=zipped), zipped

    async def refresh(self) -> None:
        """Learns the jobs created lately (or all open ones, now and then)."""
        if time.monotonic() >= self._next_reload:
            await self.reload()
            return
        now = datetime.now(UTC)
        async with self.db.session() as session:
            jobs = await repository.active_jobs(
                session, created_since=now - OVERLAP, expiring_after=now + MIN_TIME_LEFT
            )
        new = [job for job in jobs if job.id not in self._entries]
        if new:
            for job in new:
                self._entries[job.id] = entry(job)
            self._changed()
        self._prune()

    async def reload(self) -> None:
        """Reads every job miners may still be shown."""
        started = time.monotonic()
        now = datetime.now(UTC)
        async with self.db.session() as session:
            jobs = await repository.active_jobs(
                session, created_since=now - LOOKBACK, expiring_after=now + MIN_TIME_LEFT
            )
        self._next_reload = started + self.reload_seconds
        # Jobs added here meanwhile stay: a read may have started before their commit.
        fresh = {job.id: self._entries.get(job.id) or entry(job) for job in jobs}
        for job_id, item in self._entries.items():
            fresh.setdefault(job_id, item)
        self._entries = fresh
        self._changed()
        self._prune()

    def add(self, job: Job) -> None:
        """Shows a job created here at once; other replicas see it at their next refresh."""
        self._entries[job.id] = entry(job)
        self._changed()

    def _prune(self) -> None:
        cutoff = time.time()
        oldest = cutoff - LOOKBACK.total_seconds()
        gone = [
            job_id
            for job_id, item in self._entries.items()
            if item.expires < cutoff or item.created < oldest
        ]
        for job_id in gone:
            del self._entries[job_id]

    def _changed(self) -> None:
        self._view = None

    async def start(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            await self.reload()
        self._periodic.start(first_now=False)

    async def close(self) -> None:
        await self._periodic.stop()
