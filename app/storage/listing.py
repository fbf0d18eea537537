"""One page of a folder's objects, read with the server's credentials on a storage thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import BadRequest
from app.storage.calls import StorageCalls, StorageUnavailable

# What S3 and its look-alikes answer for a continuation token they did not issue.
BAD_TOKEN_CODES = frozenset({"InvalidArgument", "InvalidToken", "InvalidContinuationToken"})


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class Page:
    objects: list[StoredObject]
    next_token: str | None


def _list_page(
    client: BaseClient, bucket: str, prefix: str, token: str | None, max_keys: int
) -> Page:
    extra = {"ContinuationToken": token} if token else {}
    answer = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=max_keys, **extra)
    objects = [
        StoredObject(item["Key"], item["Size"], item["LastModified"])
        for item in answer.get("Contents", [])
    ]
    next_token = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
    return Page(objects, next_token)


async def list_page(
    storage: StorageCalls,
    client: BaseClient,
    bucket: str,
    prefix: str,
    *,
    token: str | None,
    max_keys: int,
) -> Page:
    try:
        return await storage.run(_list_page, client, bucket, prefix, token, max_keys)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in BAD_TOKEN_CODES and token:
            raise BadRequest(
                "continuation_token is not one this listing issued.", code="invalid_token"
            ) from None
        raise StorageUnavailable() from None
    except BotoCoreError:
        raise StorageUnavailable() from None
