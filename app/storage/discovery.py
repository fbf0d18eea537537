"""Which miner folders exist: every `data/<source>/<name>/` prefix, listed to the last page.

Requests read a cached set. When it is older than the configured time, one background
listing replaces it while requests keep being served the previous set; only the very
first request waits, and concurrent first requests share that one listing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from botocore.client import BaseClient

from app.storage.bucket import BucketMissing
from app.storage.calls import CALL_DEADLINE_SECONDS, StorageCalls, StorageUnavailable
from app.storage.layout import source_prefix

logger = logging.getLogger(__name__)

# How long the first request waits for the first listing before answering 503; the
# listing goes on in the background and the next request finds it.
FIRST_LISTING_WAIT_SECONDS = CALL_DEADLINE_SECONDS
# A whole source, all its pages; each page is bounded by botocore's read timeout.
LISTING_DEADLINE_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Folders:
    """Folder names per source, as listed at `listed_at` (monotonic seconds)."""

    by_source: dict[str, tuple[str, ...]]
    listed_at: float

    def __len__(self) -> int:
        return sum(len(names) for names in self.by_source.values())


def list_folder_names(client: BaseClient, bucket: str, source: str) -> tuple[str, ...]:
    """Every common prefix under `data/<source>/`, following continuation tokens."""
    prefix = source_prefix(source)
    names: list[str] = []
    token: str | None = None
    while True:
        page = client.list_objects_v2(
            Bucket=bucket,
            Prefix=prefix,
            Delimiter="/",
            MaxKeys=1000,
            **({"ContinuationToken": token} if token else {}),
        )
        names.extend(
            common["Prefix"][len(prefix) : -1] for common in page.get("CommonPrefixes", [])
        )
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return tuple(names)


class FolderDiscovery:
    def __init__(
        self,
        client: BaseClient,
        bucket: str,
        sources: Iterable[str],
        *,
        max_age_seconds: float,
        storage: StorageCalls,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.storage = storage
        self.bucket = bucket
        self.sources = tuple(sources)
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._folders: Folders | None = None
        self._listing: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.bucket_missing = False

    @property
    def cached(self) -> Folders | None:
        return self._folders

    async def folders(self) -> Folders:
        """The known folders; waits on S3 only when nothing was ever listed."""
        current = self._folders
        if current is not None:
            if self._clock() - current.listed_at >= self.max_age_seconds:
                self._start_listing()
            return current
        listing = self._start_listing()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(listing), FIRST_LISTING_WAIT_SECONDS)
        if self._folders is None:
            raise BucketMissing() if self.bucket_missing else StorageUnavailable()
        return self._folders

    def _start_listing(self) -> asyncio.Task[None]:
        if self._listing is None or self._listing.done():
            self._listing = asyncio.get_running_loop().create_task(self._refresh())
        return self._listing

    async def _refresh(self) -> None:
        started = self._clock()
        try:
            # boto3 blocks; each source is listed on a storage thread, all at once.
            names = await asyncio.gather(
                *(
                    self.storage.run_within(
                        LISTING_DEADLINE_SECONDS,
                        list_folder_names,
                        self.client,
                        self.bucket,
                        source,
                    )
                    for source in self.sources
                )
            )
        except Exception as exc:  # any S3 or network failure: keep what we had
            self.last_error = f"{type(exc).__name__}: {exc}"
            self.bucket_missing = isinstance(exc, BucketMissing)
            logger.warning(
                "folder discovery failed (%s); %s",
                type(exc).__name__,
                "serving the previous listing" if self._folders else "nothing cached yet",
            )
            return
        folders = Folders(dict(zip(self.sources, names, strict=True)), listed_at=started)
        self._folders = folders
        self.last_error = None
        self.bucket_missing = False
        logger.info("discovered %d miner folders in %.2f s", len(folders), self._clock() - started)

    async def close(self) -> None:
        if self._listing is not None and not self._listing.done():
            self._listing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listing
