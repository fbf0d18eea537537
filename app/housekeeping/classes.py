"""Which objects of one hotkey folder are dead weight, and why (pure: no S3, no database).

Validators read only the newest file of each `data/hotkey=<hk>/job_id=<id>/` folder, only
for job ids in the current Dynamic Desirability list, and only for registered hotkeys.
The classes below are exactly what none of them will ever read again; everything else
(seed-era folders, anything outside `data/hotkey=`, on-demand answers, a registered
hotkey's objects outside a job folder) is never touched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from app.storage.layout import dd_job_file
from app.storage.listing import StoredObject

Reason = Literal["superseded", "unlisted", "deregistered"]
REASONS: tuple[Reason, ...] = ("superseded", "unlisted", "deregistered")


@dataclass(frozen=True, slots=True)
class Graces:
    """Seconds an object must have been dead before it is removed, per class."""

    superseded: float
    unlisted: float
    deregistered: float


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What the decisions rest on; None where it is missing (its classes are skipped)."""

    listed: Collection[str] | None  # job ids of the current list
    registered: Collection[str] | None  # hotkeys of a fresh metagraph


@dataclass(frozen=True, slots=True)
class Doomed:
    key: str
    size: int
    reason: Reason


def newest(objects: Iterable[StoredObject]) -> StoredObject:
    """The one object validators read: greatest LastModified, ties broken by key."""
    return max(objects, key=lambda item: (item.last_modified, item.key))


def classify_folder(
    hotkey: str,
    objects: Sequence[StoredObject],
    knowledge: Knowledge,
    graces: Graces,
    now: datetime,
) -> list[Doomed]:
    """What to remove of every object under `data/hotkey=<hotkey>/` (the whole folder)."""
    if not objects:
        return []
    if knowledge.registered is not None and hotkey not in knowledge.registered:
        cutoff = now - timedelta(seconds=graces.deregistered)
        if newest(objects).last_modified > cutoff:
            return []
        return [Doomed(item.key, item.size, "deregistered") for item in objects]
    # A registered hotkey, or one nobody can tell about without a metagraph: superseded
    # and unlisted files are dead whoever owns them, and the newest file of a listed job
    # is kept either way.
    if knowledge.listed is None:
        return []
    doomed: list[Doomed] = []
    for job_id, files in _job_folders(objects).items():
        if job_id in knowledge.listed:
            doomed.extend(_superseded(files, now - timedelta(seconds=graces.superseded)))
        elif newest(files).last_modified <= now - timedelta(seconds=graces.unlisted):
            doomed.extend(Doomed(item.key, item.size, "unlisted") for item in files)
    return doomed


def _job_folders(objects: Iterable[StoredObject]) -> dict[str, list[StoredObject]]:
    folders: dict[str, list[StoredObject]] = {}
    for item in objects:
        parts = dd_job_file(item.key)
        if parts is not None:
            folders.setdefault(parts[1], []).append(item)
    return folders


def _superseded(files: list[StoredObject], cutoff: datetime) -> list[Doomed]:
    """Every file older than the newest one that is itself at least the grace old.

    Sorted by (LastModified, key), the files at or before the cutoff come first; all but
    the last of them have a newer file past its grace. The newest file is never among them.
    """
    ordered = sorted(files, key=lambda item: (item.last_modified, item.key))
    settled = 0
    while settled < len(ordered) and ordered[settled].last_modified <= cutoff:
        settled += 1
    if settled < 2:
        return []
    return [Doomed(item.key, item.size, "superseded") for item in ordered[: settled - 1]]
