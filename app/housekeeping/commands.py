"""`s3auth storage reap` and `s3auth storage usage`: one pass or one measurement, now.

Both read the settings from the environment (`S3_*`, `DATABASE_URL` for the list,
`METAGRAPH_FILE` or the chain) and close everything they opened.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TextIO

from app.db import Database
from app.housekeeping.bucket import S3_READ_TIMEOUT_SECONDS, Bucket
from app.housekeeping.classes import REASONS
from app.housekeeping.reaper import PassReport, Reaper, graces_of
from app.housekeeping.turns import reaper_turn
from app.housekeeping.usage import Usage, measure
from app.metagraph import MetagraphCache
from app.storage.calls import StorageCalls
from app.storage.client import make_s3_client
from config import Settings

BAR_WIDTH = 30


class AnotherPass(Exception):
    """Another replica or command holds the housekeeping turn."""


@dataclass
class Parts:
    bucket: Bucket
    db: Database
    metagraph: MetagraphCache


@contextlib.asynccontextmanager
async def opened(settings: Settings, *, with_metagraph: bool) -> AsyncIterator[Parts]:
    from app.main import metagraph_source_for

    s3 = make_s3_client(settings, read_timeout=S3_READ_TIMEOUT_SECONDS)
    storage = StorageCalls()
    db = Database(settings.database_url)
    cache = MetagraphCache(
        metagraph_source_for(settings),
        refresh_seconds=settings.metagraph_refresh_seconds,
        max_age_seconds=settings.metagraph_max_age_seconds,
    )
    try:
        if with_metagraph:
            # A failed load leaves no snapshot: the deregistered class is then skipped.
            with contextlib.suppress(Exception):
                await cache.refresh()
        yield Parts(Bucket(s3, settings.s3_bucket, storage), db, cache)
    finally:
        await cache.stop()
        storage.close()
        await db.close()
        s3.close()


class ProgressBar:
    """Folders done out of all, on a terminal only; redrawn in place."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.stream = stream

    def __call__(self, report: PassReport) -> None:
        done = min(report.folders, self.total)
        filled = BAR_WIDTH * done // self.total
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{self.total} folders, "
            f"{report.scanned_objects:,} objects, {sum(report.deleted.values()):,} to remove"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


async def reap_now(settings: Settings, *, dry_run: bool, show_progress: bool) -> PassReport:
    async with opened(settings, with_metagraph=True) as parts:
        reaper = Reaper(parts.bucket, parts.db, parts.metagraph, graces_of(settings))
        bar = None
        if show_progress:
            bar = ProgressBar(await parts.bucket.count_folders(), sys.stderr)
        try:
            if dry_run:  # removes nothing, so it needs no turn
                return await reaper.run(dry_run=True, progress=bar)
            async with reaper_turn(parts.db) as turn:
                if not turn:
                    raise AnotherPass()
                return await reaper.run(progress=bar)
        finally:
            if bar is not None:
                bar.close()


async def usage_now(settings: Settings) -> Usage:
    async with opened(settings, with_metagraph=False) as parts:
        return await measure(parts.bucket)


def describe_pass(report: PassReport) -> list[str]:
    verb = "would remove" if report.dry_run else "removed"
    removed = ", ".join(f"{report.deleted[r]:,} {r}" for r in REASONS)
    lines = [
        f"scanned {report.scanned_objects:,} objects in {report.folders:,} hotkey folders",
        f"{verb} {removed} ({report.deleted_bytes:,} bytes)",
        f"kept {report.kept_objects:,} objects",
    ]
    lines += [f"skipped {item['class']}: {item['reason']}" for item in report.skipped]
    return lines


def describe_usage(usage: Usage, top: int | None) -> list[str]:
    rows = usage.top(top)
    width = max([len("hotkey"), *(len(m.hotkey) for m in rows)])
    lines = [f"{'hotkey':<{width}}  {'objects':>10}  {'bytes':>16}  newest"]
    for m in rows:
        newest = m.to_json()["newest"] or "-"
        lines.append(f"{m.hotkey:<{width}}  {m.objects:>10,}  {m.bytes:>16,}  {newest}")
    lines.append(
        f"{len(usage.miners):,} hotkey folders, {usage.total_objects:,} objects, "
        f"{usage.total_bytes:,} bytes"
    )
    return lines
