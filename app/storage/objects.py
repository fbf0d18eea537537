"""Whether an object exists, asked with the server's credentials on a storage thread."""

from __future__ import annotations

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.storage.calls import StorageCalls, StorageUnavailable

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def _exists(client: BaseClient, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            return False
        raise
    return True


async def object_exists(storage: StorageCalls, client: BaseClient, bucket: str, key: str) -> bool:
    try:
        return await storage.run(_exists, client, bucket, key)
    except (ClientError, BotoCoreError):
        raise StorageUnavailable() from None
