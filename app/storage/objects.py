"""Whether an object exists, asked with the server's credentials off the event loop."""

from __future__ import annotations

import asyncio

from botocore.client import BaseClient
from botocore.exceptions import BotoCoreError, ClientError

from app.errors import Unavailable

MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


def _exists(client: BaseClient, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in MISSING_CODES:
            return False
        raise
    return True


async def object_exists(client: BaseClient, bucket: str, key: str) -> bool:
    try:
        return await asyncio.to_thread(_exists, client, bucket, key)
    except (ClientError, BotoCoreError):
        raise Unavailable(
            "Storage cannot be reached right now; try again shortly.", code="storage_unavailable"
        ) from None
