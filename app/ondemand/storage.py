"""The bucket side of on-demand answers: what landed under a job, and deleting old answers.

boto3 blocks, so every call runs on the storage pool (app/storage/calls.py) under a
deadline; a store that fails or does not answer in time is a 503 `storage_unavailable`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.calls import StorageCalls, StorageUnavailable

# Landed answers of one job: key -> (size, ETag without quotes, last modified).
Landed = dict[str, tuple[int, str | None, datetime | None]]

T = TypeVar("T")
A = TypeVar("A")

STORAGE_DEADLINE_SECONDS = 15.0
DELETE_BATCH = 1000


class AnswerStore:
    def __init__(self, s3: BaseClient, bucket: str, storage: StorageCalls) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.storage = storage

    def _list(self, prefix: str) -> Landed:
        landed: Landed = {}
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                etag = item.get("ETag")
                landed[item["Key"]] = (
                    int(item.get("Size", 0)),
                    etag.strip('"') if etag else None,
                    item.get("LastModified"),
                )
        return landed

    def _delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = self.s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            errors = [e for e in answer.get("Errors", []) if e.get("Code") != "NoSuchKey"]
            if errors:
                raise ClientError({"Error": errors[0]}, "DeleteObjects")

    def _exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return False
            raise
        return True

    async def exists(self, key: str, *, deadline: float = STORAGE_DEADLINE_SECONDS) -> bool:
        """Whether an answer landed at `key`."""
        return await self._bounded(deadline, self._exists, key)

    async def landed(self, prefix: str, *, deadline: float = STORAGE_DEADLINE_SECONDS) -> Landed:
        return await self._bounded(deadline, self._list, prefix)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self._bounded(STORAGE_DEADLINE_SECONDS, self._delete, keys)

    async def _bounded(self, deadline: float, fn: Callable[[A], T], arg: A) -> T:
        try:
            return await self.storage.run_within(deadline, fn, arg)
        except (BotoCoreError, ClientError, OSError) as exc:
            raise StorageUnavailable() from exc
