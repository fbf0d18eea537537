"""Storage per miner: objects, bytes and the newest LastModified of each hotkey folder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.housekeeping.bucket import Bucket
from app.storage.layout import folder_hotkey


@dataclass
class FolderUsage:
    hotkey: str
    objects: int = 0
    bytes: int = 0
    newest: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        newest = (
            self.newest.astimezone(UTC).isoformat().replace("+00:00", "Z") if self.newest else None
        )
        return {
            "hotkey": self.hotkey,
            "objects": self.objects,
            "bytes": self.bytes,
            "newest": newest,
        }


@dataclass
class Usage:
    miners: list[FolderUsage]

    @property
    def total_objects(self) -> int:
        return sum(m.objects for m in self.miners)

    @property
    def total_bytes(self) -> int:
        return sum(m.bytes for m in self.miners)

    def top(self, count: int | None) -> list[FolderUsage]:
        """Largest folders first (by bytes, then objects); all of them without a count."""
        ordered = sorted(self.miners, key=lambda m: (-m.bytes, -m.objects, m.hotkey))
        return ordered if count is None else ordered[:count]

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        """The `s3auth storage usage --json` object; totals always cover every folder."""
        return {
            "miners": [m.to_json() for m in self.top(top)],
            "total_objects": self.total_objects,
            "total_bytes": self.total_bytes,
        }


async def measure(bucket: Bucket) -> Usage:
    """One walk of `data/hotkey=`; memory grows with the number of folders, not of objects."""
    folders: dict[str, FolderUsage] = {}
    async for page in bucket.objects():
        for item in page.objects:
            hotkey = folder_hotkey(item.key)
            if hotkey is None:
                continue
            usage = folders.get(hotkey)
            if usage is None:
                usage = folders[hotkey] = FolderUsage(hotkey)
            usage.objects += 1
            usage.bytes += item.size
            if usage.newest is None or item.last_modified > usage.newest:
                usage.newest = item.last_modified
    return Usage(list(folders.values()))
