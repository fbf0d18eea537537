"""The walk hands out whole hotkey folders, and refuses a listing that splits one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from app.housekeeping.bucket import Bucket, Folder, StorageFailed
from app.storage.listing import Page, StoredObject

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


class ListedBucket(Bucket):
    """A walk over given pages, as S3 would hand them out."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages

    async def objects(self, prefix: str = "") -> AsyncIterator[Page]:
        for keys in self.pages:
            yield Page([StoredObject(key, 1, WHEN) for key in keys], None)


def walk(pages: list[list[str]]) -> list[Folder]:
    async def collect() -> list[Folder]:
        return [folder async for folder in ListedBucket(pages).hotkey_folders()]

    return asyncio.run(collect())


def test_folders_spanning_pages_are_handed_out_whole() -> None:
    pages = [
        ["data/hotkey=A/job_id=1/a", "data/hotkey=A/job_id=1/b"],
        ["data/hotkey=A/x", "data/hotkey=B/y", "data/hotkey=loose"],
    ]
    folders = walk(pages)
    assert [(f.hotkey, len(f.objects)) for f in folders] == [("A", 3), ("B", 1), (None, 1)]


def test_a_folder_listed_in_two_parts_stops_the_walk() -> None:
    with pytest.raises(StorageFailed):
        walk([["data/hotkey=A/1", "data/hotkey=B/1"], ["data/hotkey=A/2"]])
