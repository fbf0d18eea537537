"""The bucket side of housekeeping: hotkey folders streamed whole, deletions in batches.

One ListObjectsV2 walk of `data/hotkey=` in key order hands out one complete folder at a
time, so memory holds one folder and one page, whatever the bucket's size. A folder is
handed out only once a key past it (or the end) was seen: a decision never rests on part
of a folder. Deletions go in DeleteObjects batches of at most 1,000 keys, a few in flight
while the walk goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import ServiceError, Unavailable
from app.housekeeping.classes import Doomed, Reason
from app.storage.calls import StorageCalls
from app.storage.layout import HOTKEY_FOLDERS_PREFIX, folder_hotkey
from app.storage.listing import Page, StoredObject

PAGE_KEYS = 1000
DELETE_BATCH = 1000
# The storage pool serves requests too: a pass takes at most 1 + this many of its threads.
# More did not help: SeaweedFS removed keys more slowly with 3 or 4 batches at once.
DELETES_IN_FLIGHT = 2
# One call on the storage pool; a page or a batch that takes longer is an outage.
CALL_DEADLINE_SECONDS = 120.0
# A busy SeaweedFS takes over 5 s (the request path's read timeout) for 1,000 deletions.
S3_READ_TIMEOUT_SECONDS = 60.0


class StorageFailed(Unavailable):
    """S3 failed during a pass: the pass stops; what it removed so far was each reapable."""

    code = "storage_unavailable"


@dataclass(frozen=True, slots=True)
class Folder:
    hotkey: str | None  # None: objects directly under `data/hotkey=`, in no folder
    objects: list[StoredObject]


def _list_page(client: BaseClient, bucket: str, prefix: str, token: str | None) -> Page:
    extra = {"ContinuationToken": token} if token else {}
    answer = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=PAGE_KEYS, **extra)
    objects = [
        StoredObject(item["Key"], int(item.get("Size", 0)), item["LastModified"])
        for item in answer.get("Contents", [])
    ]
    token = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
    return Page(objects, token)


class Bucket:
    def __init__(self, s3: BaseClient, bucket: str, storage: StorageCalls) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.storage = storage

    async def _call(self, fn: Callable[..., object], *args: object) -> object:
        try:
            return await self.storage.run_within(CALL_DEADLINE_SECONDS, fn, *args)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise StorageFailed(f"S3 failed: {type(exc).__name__}: {exc}") from exc
        except ServiceError as exc:
            raise StorageFailed(f"S3 did not answer: {exc.detail}") from exc

    async def objects(self, prefix: str = HOTKEY_FOLDERS_PREFIX) -> AsyncIterator[Page]:
        token: str | None = None
        while True:
            page = await self._call(_list_page, self.s3, self.bucket, prefix, token)
            assert isinstance(page, Page)
            yield page
            token = page.next_token
            if token is None:
                return

    def _count_folders(self) -> int:
        paginator = self.s3.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=HOTKEY_FOLDERS_PREFIX, Delimiter="/")
        return sum(len(page.get("CommonPrefixes", [])) for page in pages)

    async def count_folders(self) -> int:
        """How many hotkey folders there are (one cheap delimited listing), for progress."""
        count = await self._call(self._count_folders)
        assert isinstance(count, int)
        return count

    async def hotkey_folders(self) -> AsyncIterator[Folder]:
        """Every hotkey folder with all its objects, one at a time, in key order."""
        current: Folder | None = None
        # Keys sharing a prefix are contiguous in any listing order S3 stores use; a store
        # that broke this would hand out part of a folder, so the walk refuses to go on.
        finished: set[str] = set()
        async for page in self.objects():
            for item in page.objects:
                hotkey = folder_hotkey(item.key)
                if current is not None and (hotkey is None or hotkey != current.hotkey):
                    if current.hotkey is not None:
                        finished.add(current.hotkey)
                    yield current
                    current = None
                if hotkey is not None and hotkey in finished:
                    raise StorageFailed(
                        "S3 listed a hotkey folder in two parts; nothing is decided on part of one."
                    )
                if current is None:
                    current = Folder(hotkey, [])
                current.objects.append(item)
        if current is not None:
            yield current

    def _delete(self, keys: Sequence[str]) -> None:
        answer = self.s3.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
        )
        errors = [e for e in answer.get("Errors", []) if e.get("Code") != "NoSuchKey"]
        if errors:
            raise ClientError({"Error": errors[0]}, "DeleteObjects")

    async def delete(self, keys: Sequence[str]) -> None:
        await self._call(self._delete, keys)


Removed = Callable[[Sequence[Doomed]], None]


class Deleter:
    """Collects doomed objects into batches and sends a few batches at a time."""

    def __init__(self, bucket: Bucket, on_removed: Removed) -> None:
        self.bucket = bucket
        self.on_removed = on_removed
        self._batch: list[Doomed] = []
        self._slots = asyncio.Semaphore(DELETES_IN_FLIGHT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None

    async def add(self, doomed: Sequence[Doomed]) -> None:
        for item in doomed:
            self._batch.append(item)
            if len(self._batch) >= DELETE_BATCH:
                await self._send()

    async def _send(self) -> None:
        self._raise_failure()
        batch, self._batch = self._batch, []
        if not batch:
            return
        await self._slots.acquire()
        task = asyncio.create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[Doomed]) -> None:
        try:
            await self.bucket.delete([item.key for item in batch])
            self.on_removed(batch)
        except BaseException as exc:
            self._failure = self._failure or exc
        finally:
            self._slots.release()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def finish(self) -> None:
        """Sends what is left and waits for every batch; raises the first failure."""
        await self._send()
        await self.drain()
        self._raise_failure()

    async def drain(self) -> None:
        """Waits for the batches in flight, sending nothing more (after a failure)."""
        self._batch = []
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def count_reasons(doomed: Sequence[Doomed]) -> dict[Reason, tuple[int, int]]:
    """(objects, bytes) per reason."""
    totals: dict[Reason, tuple[int, int]] = {}
    for item in doomed:
        objects, size = totals.get(item.reason, (0, 0))
        totals[item.reason] = (objects + 1, size + item.size)
    return totals
