"""One housekeeping pass: gather the list and the metagraph, walk the folders, remove.

A class whose information is missing (no list, a missing or stale metagraph) is skipped
as a whole and says so. An S3 failure stops the pass: every object removed before it was
reapable on its own, and nothing is decided on part of a folder, so the next pass simply
resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import ProgrammingError

from app.db import Database, DatabaseUnavailable
from app.desirability import repository
from app.housekeeping.bucket import Bucket, Deleter, count_reasons
from app.housekeeping.classes import REASONS, Doomed, Graces, Knowledge, Reason, classify_folder
from app.housekeeping.metrics import ReapMetrics
from app.metagraph import MetagraphCache
from config import Settings

logger = logging.getLogger(__name__)

DATABASE_DEADLINE_SECONDS = 10.0


class PassStopped(Exception):
    """The service is stopping: the pass ends between two folders."""


def graces_of(settings: Settings) -> Graces:
    return Graces(
        superseded=settings.reap_superseded_after_seconds,
        unlisted=settings.reap_unlisted_after_seconds,
        deregistered=settings.reap_deregistered_after_seconds,
    )


@dataclass
class PassReport:
    dry_run: bool
    scanned_objects: int = 0
    folders: int = 0
    deleted: dict[Reason, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    deleted_bytes_by: dict[Reason, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    skipped: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def deleted_bytes(self) -> int:
        return sum(self.deleted_bytes_by.values())

    @property
    def kept_objects(self) -> int:
        return self.scanned_objects - sum(self.deleted.values())

    def count(self, doomed: Sequence[Doomed]) -> None:
        for reason, (objects, size) in count_reasons(doomed).items():
            self.deleted[reason] += objects
            self.deleted_bytes_by[reason] += size

    def to_json(self) -> dict[str, Any]:
        """The `s3auth storage reap --json` object of CONTRACT §6.1."""
        return {
            "dry_run": self.dry_run,
            "scanned_objects": self.scanned_objects,
            "deleted": dict(self.deleted),
            "deleted_bytes": self.deleted_bytes,
            "kept_objects": self.kept_objects,
            "skipped": list(self.skipped),
        }


@dataclass
class Tallies:
    """What this process's passes did, for /metrics and /healthcheck."""

    objects: dict[Reason, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    bytes: dict[Reason, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    skipped: dict[Reason, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    last_success: float | None = None
    last_report: PassReport | None = None
    last_finished: float | None = None
    last_error: str | None = None


async def current_job_ids(db: Database) -> tuple[frozenset[str] | None, str]:
    """Job ids of the newest published list, or None and why there are none."""
    try:
        async with db.session(deadline=DATABASE_DEADLINE_SECONDS) as session:
            seq = await repository.newest_seq(session)
            row = await repository.get(session, seq) if seq is not None else None
    except DatabaseUnavailable:
        return None, "the database is not reachable, so the current list is unknown"
    except ProgrammingError:
        return None, "the database has no list table yet (s3auth db upgrade makes it)"
    if row is None:
        return None, "no Dynamic Desirability list has been published"
    return frozenset(str(entry["id"]) for entry in row.entries), ""


def registered_hotkeys(cache: MetagraphCache) -> tuple[Collection[str] | None, str]:
    """Hotkeys of a fresh metagraph, or None and why it cannot be trusted."""
    snapshot = cache.snapshot
    if snapshot is None:
        why = "the metagraph has not been loaded"
        return None, f"{why} (last load failed: {cache.last_error})" if cache.last_error else why
    if not cache.is_fresh():
        return None, (
            f"the metagraph is {cache.age_seconds() or 0:.0f} s old, over "
            f"METAGRAPH_MAX_AGE_SECONDS ({cache.max_age_seconds:g} s)"
        )
    return snapshot.by_hotkey.keys(), ""


Progress = Callable[[PassReport], None]


class Reaper:
    def __init__(
        self, bucket: Bucket, db: Database, metagraph: MetagraphCache, graces: Graces
    ) -> None:
        self.bucket = bucket
        self.db = db
        self.metagraph = metagraph
        self.graces = graces
        self.tallies = Tallies()
        self.metrics: ReapMetrics | None = None
        self.stopping = False

    async def run(
        self,
        *,
        dry_run: bool = False,
        now: datetime | None = None,
        progress: Progress | None = None,
    ) -> PassReport:
        started = time.monotonic()
        now = now or datetime.now(UTC)
        report = PassReport(dry_run)
        listed, list_why = await current_job_ids(self.db)
        registered, metagraph_why = registered_hotkeys(self.metagraph)
        if listed is None:
            self._skip(report, "superseded", list_why)
            self._skip(report, "unlisted", list_why)
        if registered is None:
            self._skip(report, "deregistered", metagraph_why)
        knowledge = Knowledge(listed, registered)
        deleter = None if dry_run else Deleter(self.bucket, lambda b: self._removed(report, b))
        try:
            async for folder in self.bucket.hotkey_folders():
                if self.stopping:
                    raise PassStopped("the service stopped during the pass")
                report.scanned_objects += len(folder.objects)
                if folder.hotkey is not None:
                    report.folders += 1
                    doomed = classify_folder(
                        folder.hotkey, folder.objects, knowledge, self.graces, now
                    )
                    if deleter is None:
                        report.count(doomed)
                    else:
                        await deleter.add(doomed)
                if progress is not None:
                    progress(report)
            if deleter is not None:
                await deleter.finish()
        except BaseException as exc:
            if deleter is not None:
                await deleter.drain()
            self.tallies.last_finished = time.time()
            self.tallies.last_error = str(exc) or type(exc).__name__
            raise
        report.seconds = time.monotonic() - started
        self._finished(report)
        return report

    def _skip(self, report: PassReport, reason: Reason, why: str) -> None:
        report.skipped.append({"class": reason, "reason": why})
        self.tallies.skipped[reason] += 1
        if self.metrics is not None:
            self.metrics.skipped.labels(reason).inc()
        logger.warning("storage housekeeping skips %s objects: %s", reason, why)

    def _removed(self, report: PassReport, batch: Sequence[Doomed]) -> None:
        report.count(batch)
        for reason, (objects, size) in count_reasons(batch).items():
            self.tallies.objects[reason] += objects
            self.tallies.bytes[reason] += size
            if self.metrics is not None:
                self.metrics.objects.labels(reason).inc(objects)
                self.metrics.bytes.labels(reason).inc(size)

    def _finished(self, report: PassReport) -> None:
        tallies = self.tallies
        tallies.last_finished = time.time()
        tallies.last_report = report
        tallies.last_error = None
        if not report.dry_run:
            tallies.last_success = tallies.last_finished
            if self.metrics is not None:
                self.metrics.last_success.set(tallies.last_success)
        removed = ", ".join(f"{report.deleted[r]} {r}" for r in REASONS)
        logger.info(
            "storage housekeeping%s: scanned %d objects in %.1f s, %s %s (%d bytes), kept %d",
            " (dry run)" if report.dry_run else "",
            report.scanned_objects,
            report.seconds,
            "would remove" if report.dry_run else "removed",
            removed,
            report.deleted_bytes,
            report.kept_objects,
        )
