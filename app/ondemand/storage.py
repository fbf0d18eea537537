"""The bucket side of on-demand answers: what landed under a job, and deleting old answers.

boto3 blocks, so every call runs in a worker thread under a deadline; a store that fails
or does not answer in time is a 503 `storage_unavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TypeVar

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import Unavailable

# Landed answers of one job: key -> (size, ETag without quotes, last modified).
Landed = dict[str, tuple[int, str | None, datetime | None]]

T = TypeVar("T")

STORAGE_DEADLINE_SECONDS = 15.0
DELETE_BATCH = 1000


class AnswerStore:
    def __init__(self, s3: BaseClient, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

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

    async def landed(self, prefix: str, *, deadline: float = STORAGE_DEADLINE_SECONDS) -> Landed:
        return await self._bounded(asyncio.to_thread(self._list, prefix), deadline)

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await self._bounded(asyncio.to_thread(self._delete, keys), STORAGE_DEADLINE_SECONDS)

    @staticmethod
    async def _bounded(call: Awaitable[T], deadline: float) -> T:
        try:
            return await asyncio.wait_for(call, deadline)
        except (BotoCoreError, ClientError, OSError, TimeoutError) as exc:
            raise Unavailable(
                "Storage did not answer; retry shortly.", code="storage_unavailable"
            ) from exc
