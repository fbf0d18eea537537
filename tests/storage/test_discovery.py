"""Folder discovery: every page, one shared first listing, stale answers while refreshing."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from app.errors import Unavailable
from app.storage.calls import StorageCalls
from app.storage.discovery import FolderDiscovery


class PagedBucket:
    """Answers ListObjectsV2 with `page_size` common prefixes per page, like S3."""

    def __init__(self, names: dict[str, list[str]], page_size: int = 2) -> None:
        self.names = names
        self.page_size = page_size
        self.calls = 0
        self.fail = False
        self.gate: threading.Event | None = None

    def list_objects_v2(self, *, Prefix: str, ContinuationToken: str = "0", **_: Any) -> Any:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail:
            raise ConnectionError("storage is down")
        source = Prefix.split("/")[1]
        start = int(ContinuationToken)
        chunk = self.names[source][start : start + self.page_size]
        more = start + self.page_size < len(self.names[source])
        page: dict[str, Any] = {
            "CommonPrefixes": [{"Prefix": f"{Prefix}{name}/"} for name in chunk],
            "IsTruncated": more,
        }
        if more:
            page["NextContinuationToken"] = str(start + self.page_size)
        return page


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def discovery(bucket: PagedBucket, clock: Clock, sources: tuple[str, ...] = ("x",)) -> Any:
    return FolderDiscovery(
        bucket,  # type: ignore[arg-type]
        "b",
        sources,
        max_age_seconds=60,
        storage=StorageCalls(),
        clock=clock,
    )


def test_lists_every_page_of_every_source() -> None:
    bucket = PagedBucket({"x": [f"m{i}" for i in range(7)], "reddit": ["r1"]})

    folders = asyncio.run(discovery(bucket, Clock(), ("x", "reddit")).folders())

    assert folders.by_source == {"x": tuple(f"m{i}" for i in range(7)), "reddit": ("r1",)}
    assert bucket.calls == 4 + 1


def test_concurrent_first_requests_share_one_listing() -> None:
    bucket = PagedBucket({"x": ["a"]})
    bucket.gate = threading.Event()

    async def scenario() -> list[Any]:
        found = discovery(bucket, Clock())
        waiting = [asyncio.create_task(found.folders()) for _ in range(20)]
        await asyncio.sleep(0.05)
        bucket.gate.set()
        return await asyncio.gather(*waiting)

    results = asyncio.run(scenario())

    assert bucket.calls == 1
    assert all(r.by_source == {"x": ("a",)} for r in results)


def test_stale_set_is_served_while_a_refresh_runs() -> None:
    bucket = PagedBucket({"x": ["old"]})
    clock = Clock()

    async def scenario() -> tuple[Any, Any, Any]:
        found = discovery(bucket, clock)
        first = await found.folders()
        bucket.names["x"] = ["old", "new"]
        clock.now += 61
        stale = await found.folders()  # answered at once, refresh started
        await found._listing
        return first, stale, await found.folders()

    first, stale, fresh = asyncio.run(scenario())

    assert first.by_source["x"] == stale.by_source["x"] == ("old",)
    assert fresh.by_source["x"] == ("old", "new")


def test_fresh_set_is_not_listed_again() -> None:
    bucket = PagedBucket({"x": ["a"]})
    clock = Clock()

    async def scenario() -> None:
        found = discovery(bucket, clock)
        await found.folders()
        clock.now += 59
        await found.folders()

    asyncio.run(scenario())
    assert bucket.calls == 1


def test_failed_refresh_keeps_serving_the_previous_set() -> None:
    bucket = PagedBucket({"x": ["a"]})
    clock = Clock()

    async def scenario() -> Any:
        found = discovery(bucket, clock)
        await found.folders()
        bucket.fail = True
        clock.now += 61
        await found.folders()
        await found._listing
        assert found.last_error is not None
        return await found.folders()

    assert asyncio.run(scenario()).by_source == {"x": ("a",)}


def test_failure_with_nothing_cached_is_unavailable() -> None:
    bucket = PagedBucket({"x": ["a"]})
    bucket.fail = True

    with pytest.raises(Unavailable) as refused:
        asyncio.run(discovery(bucket, Clock()).folders())
    assert refused.value.code == "storage_unavailable"
